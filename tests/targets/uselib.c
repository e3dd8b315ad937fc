/* Calls uptest_lib_work() in libuptest.so ROUNDS times (argv[1], default 1)
 * and uptest_lib_other() twice as often, then prints "done". With "wait" as
 * argv[2] it then prints "ready PID" and sleeps until killed (for -p). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long uptest_lib_work(long x);
long uptest_lib_other(long x);

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 1;
  long sum = 0;
  for (long i = 0; i < rounds; i++) sum += uptest_lib_work(i);
  for (long i = 0; i < 2 * rounds; i++) sum += uptest_lib_other(i);
  printf("done %ld\n", sum);
  fflush(stdout);
  if (argc > 2 && strcmp(argv[2], "wait") == 0) {
    printf("ready %d\n", getpid());
    fflush(stdout);
    for (;;) pause();
  }
  return 0;
}
