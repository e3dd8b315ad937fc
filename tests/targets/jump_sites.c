/* Drives the functions of jump_sites.S (linked in by extra.cmake): each is
 * called N times (argv[1], default 1000) with i = 0..N-1, its results summed
 * and checked against a C model. Prints one "NAME SUM" line per function,
 * then "mismatches M"; exits 1 on any mismatch. So a probe on each is hit
 * exactly N times, and a broken relocation shows as a mismatch or a crash.
 * With "forever" it prints "ready PID" and calls them until killed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long js_call(long);
long js_jcc(long);
long js_ret_short(long);
long js_ret_nop(long);
long js_tail(long);
long js_switch(long);
long js_loop_switch(long);
long js_enters(long);
long js_entered(long);
long js_enters_tight(long);
long js_entered_tight(long);

static long model_call(long x) { return (x + 3) * 2; }
static long model_jcc(long x) { return x ? 7 : 9; }
static long model_ret_short(long x) { return (long)(unsigned)x; }
static long model_ret_nop(long x) { return (long)(unsigned)(x + 1); }
static long model_tail(long x) { return (long)(unsigned)x * 3; }
static long model_switch(long x) { return x >= 0 && x <= 3 ? 10 * (x + 1) : -1; }
static long model_loop_switch(long x) {
  for (long r = 0;; x--) {
    if ((x & 3) == 3) return r + 10;
    if (++r, x - 1 <= 0) return r;
  }
}
static long model_enters(long x) { return (long)(unsigned)(x + 100); }
static long model_entered(long x) { return (long)(unsigned)(x + 1); }

struct fn {
  const char *name;
  long (*real)(long);
  long (*model)(long);
};

int main(int argc, char **argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000;
  static const struct fn fns[] = {
      {"js_call", js_call, model_call},          {"js_jcc", js_jcc, model_jcc},
      {"js_ret_short", js_ret_short, model_ret_short}, {"js_ret_nop", js_ret_nop, model_ret_nop},
      {"js_tail", js_tail, model_tail},          {"js_switch", js_switch, model_switch},
      {"js_loop_switch", js_loop_switch, model_loop_switch},
      {"js_enters", js_enters, model_enters},    {"js_entered", js_entered, model_entered},
      {"js_enters_tight", js_enters_tight, model_enters}, {"js_entered_tight", js_entered_tight, model_entered},
  };
  long mismatches = 0;
  if (argc > 1 && strcmp(argv[1], "forever") == 0) {
    /* For attach tests: every function, round after round, until killed;
     * exits 1 at the first wrong result. */
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    for (long i = 0;; i++)
      for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
        const long x = fns[f].real == js_switch ? i % 6 : i % 1000;
        if (fns[f].real(x) != fns[f].model(x)) {
          printf("mismatch in %s(%ld)\n", fns[f].name, x);
          return 1;
        }
      }
  }
  for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
    long sum = 0;
    for (long i = 0; i < n; i++) {
      /* The switch sees its default too: 0..5. */
      const long x = fns[f].real == js_switch ? i % 6 : i;
      const long got = fns[f].real(x);
      if (got != fns[f].model(x)) mismatches++;
      sum += got;
    }
    printf("%s %ld\n", fns[f].name, sum);
  }
  printf("mismatches %ld\n", mismatches);
  return mismatches ? 1 : 0;
}
