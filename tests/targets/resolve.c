/* For probe resolution tests. With ROUNDS = argv[1] (default 1) it calls
 *   work_a ROUNDS times, work_b 2*ROUNDS times, work_c 3*ROUNDS times,
 *   other_fn ROUNDS times, getppid() ROUNDS times,
 *   line_fn ROUNDS times from the line marked PROBE-LINE,
 *   inline_caller1 ROUNDS times and inline_caller2 2*ROUNDS times, each
 *   running the line marked INLINE-LINE once per call,
 * then prints "done". The same source builds target-resolve (PIE) and
 * target-resolve-nopie. With "wait" as argv[2] it then prints
 * "ready PID" and sleeps until killed (for -p). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROBED __attribute__((noinline, noipa))

volatile long sink;

PROBED long work_a(long x) { return sink += x + 1; }
PROBED long work_b(long x) { return sink += x + 2; }
PROBED long work_c(long x) { return sink += x + 3; }
PROBED long other_fn(long x) { return sink += x * 3; }
PROBED long line_fn(long x) { return sink += x ^ 5; }

/* Inlined into both callers: its marked line has code at two places. */
static inline __attribute__((always_inline)) long inlined(long x) {
  long y = x * 3 + sink; /* INLINE-LINE */
  return y;
}
PROBED long inline_caller1(long x) { return inlined(x) + 1; }
PROBED long inline_caller2(long x) { return inlined(x) + 2; }

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 1;
  for (long i = 0; i < rounds; i++) work_a(i);
  for (long i = 0; i < 2 * rounds; i++) work_b(i);
  for (long i = 0; i < 3 * rounds; i++) work_c(i);
  for (long i = 0; i < rounds; i++) other_fn(i);
  for (long i = 0; i < rounds; i++) sink += getppid();
  for (long i = 0; i < rounds; i++) {
    sink += 1;
    line_fn(i); /* PROBE-LINE */
    sink += 2;
  }
  for (long i = 0; i < rounds; i++) inline_caller1(i);
  for (long i = 0; i < 2 * rounds; i++) inline_caller2(i);
  printf("done\n");
  fflush(stdout);
  if (argc > 2 && strcmp(argv[2], "wait") == 0) {
    printf("ready %d\n", getpid());
    fflush(stdout);
    for (;;) pause();
  }
  return 0;
}
