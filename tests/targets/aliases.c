/* Calls release_it() in libaliases.so ROUNDS times (argv[1], default 1),
 * then prints "done". */
#include <stdio.h>
#include <stdlib.h>

void release_it(long x);

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 1;
  for (long i = 0; i < rounds; i++) release_it(i);
  printf("done\n");
  return 0;
}
