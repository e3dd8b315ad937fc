/* USDT (SystemTap SDT) markers: <sys/sdt.h> puts a nop at each and describes
 * it in .note.stapsdt, with where each argument is at the nop.
 *   sdt N          N rounds, i = 0..N-1, each:
 *                    uptest:tick    i (int), -1000*i (long), 200+i (unsigned
 *                                   char), the name "rec-i" (char *), and
 *                                   the record's id 7*i read from memory
 *                    uptest:answer  the constant 42
 *                    uptest:guarded (sdt/guarded.c) i and 3*i, only while
 *                                   its semaphore says a tracer is there
 *                  then prints "guarded G" (how many rounds saw the
 *                  semaphore set) and "sum S" (i summed).
 *   sdt wait       prints "ready PID", then for every SIGUSR1 runs one round
 *                  (i counts on) and prints "semaphore V guarded G", V the
 *                  semaphore's value during that round; SIGUSR2 ends it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

struct rec {
  long id;
  char name[16];
};

/* sdt/guarded.c */
int guarded_round(long i);
unsigned short guarded_semaphore_value(void);

static volatile long sink;

NOINLINE void tick(struct rec *r, int i) {
  long neg = -1000L * i;
  unsigned char small = (unsigned char)(200 + i);
  const char *name = r->name;
  DTRACE_PROBE5(uptest, tick, i, neg, small, name, r->id);
  sink += i;
}

NOINLINE void answer(void) {
  DTRACE_PROBE1(uptest, answer, 42);
  sink++;
}

static long guarded_rounds;

static void round_of(long i) {
  struct rec r;
  r.id = 7 * i;
  snprintf(r.name, sizeof r.name, "rec-%ld", i);
  tick(&r, (int)i);
  answer();
  guarded_rounds += guarded_round(i);
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "wait")) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("ready %d\n", getpid());
    fflush(stdout);
    for (long i = 0;; i++) {
      int sig = 0;
      sigwait(&set, &sig);
      if (sig != SIGUSR1) break;
      unsigned short v = guarded_semaphore_value();
      round_of(i);
      printf("semaphore %u guarded %ld\n", v, guarded_rounds);
      fflush(stdout);
    }
    return 0;
  }
  long n = argc > 1 ? atol(argv[1]) : 10;
  long sum = 0;
  for (long i = 0; i < n; i++) {
    round_of(i);
    sum += i;
  }
  printf("guarded %ld\nsum %ld\n", guarded_rounds, sum);
  return 0;
}
