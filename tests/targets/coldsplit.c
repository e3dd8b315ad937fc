/* At -O2 GCC moves hot_or_cold()'s unlikely path to hot_or_cold.cold, which
 * jumps back into the function from outside it: jump probes must not be
 * placed there (see cmd/resolver.cpp). */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline, cold)) void complain(long x) { fprintf(stderr, "cold path %ld\n", x); }

__attribute__((noinline)) long hot_or_cold(long x) {
  if (x == 123456789) {
    complain(x);
    x = random();
  }
  return x * 2 + 1;
}

int main(int argc, char **argv) {
  long sum = 0;
  for (long i = 0; i < (argc > 1 ? atol(argv[1]) : 10); i++) sum += hot_or_cold(i);
  printf("sum %ld\n", sum);
  return 0;
}
