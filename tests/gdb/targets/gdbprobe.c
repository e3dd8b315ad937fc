/* The target of the gdb-coexistence tests: a process that both uptrace and
 * gdb attach to, driven by commands on stdin so every call of a probed
 * function is one the test asked for (exact hit counts, reproducible results).
 *
 *   gdbprobe [LOAD_THREADS [PAUSE_US]]
 *
 * LOAD_THREADS threads (default 0) call tick() forever, PAUSE_US (default 200)
 * microseconds apart: hits that keep coming while the test does other things.
 * Prints "ready PID" once they run, then one answer per command:
 *
 *   calls N T   T threads each call chain(i) for i in 0..N-1 (chain calls
 *               scale and mix once each)        -> "done SUM"
 *   park        a thread calls park(), which blocks in read() -> "parking TID"
 *   unpark      the parked thread's read() returns -> "unparked RESULT"
 *   quit [N]    exit(N), N = 0 by default
 *
 * SUM depends only on N and T; RESULT is 1 + 'x' when park ran correctly. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const long table[8] = {3, 1, 4, 1, 5, 9, 2, 6};
volatile long bias = 7;
volatile long ticks;
static long pause_us = 200;
static int park_pipe[2];

/* A rip-relative load of a constant table and of a global. */
__attribute__((noinline)) long scale(long x) { return table[x & 7] * x + bias; }

/* A loop: conditional branches inside. */
__attribute__((noinline)) long mix(long a, long b) {
  for (long i = 0; i < (b & 7); i++) a = a * 31 + i;
  return a;
}

/* Calls: the return addresses must be the original ones. */
__attribute__((noinline)) long chain(long x) { return mix(scale(x), x) + 1; }

/* Blocks in a call, so a thread can be seen stopped inside it. */
__attribute__((noinline)) long park(int fd) {
  char c = 0;
  long n = read(fd, &c, 1);
  return n + c;
}

__attribute__((noinline)) void tick(void) { ticks = ticks + 1; }

static void *load_loop(void *arg) {
  (void)arg;
  for (;;) {
    tick();
    usleep((useconds_t)pause_us);
  }
  return NULL;
}

struct job {
  long n, sum;
};

static void *calls_loop(void *arg) {
  struct job *j = arg;
  for (long i = 0; i < j->n; i++) j->sum += chain(i);
  return NULL;
}

static long parked_result;
static void *park_loop(void *arg) {
  (void)arg;
  printf("parking %ld\n", (long)syscall(SYS_gettid));
  fflush(stdout);
  parked_result = park(park_pipe[0]);
  return NULL;
}

int main(int argc, char **argv) {
  int load = argc > 1 ? atoi(argv[1]) : 0;
  if (argc > 2) pause_us = atol(argv[2]);
  if (pipe(park_pipe) != 0) return 3;
  pthread_t t;
  for (int i = 0; i < load; i++) pthread_create(&t, NULL, load_loop, NULL);
  printf("ready %d\n", getpid());
  fflush(stdout);

  char line[256];
  pthread_t parked;
  while (fgets(line, sizeof line, stdin)) {
    long n = 0, threads = 0;
    if (sscanf(line, "calls %ld %ld", &n, &threads) == 2 && threads > 0 && threads <= 64) {
      pthread_t tid[64];
      struct job jobs[64];
      long sum = 0;
      for (long i = 0; i < threads; i++) {
        jobs[i].n = n;
        jobs[i].sum = 0;
        pthread_create(&tid[i], NULL, calls_loop, &jobs[i]);
      }
      for (long i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        sum += jobs[i].sum;
      }
      printf("done %ld\n", sum);
    } else if (strcmp(line, "park\n") == 0) {
      pthread_create(&parked, NULL, park_loop, NULL);
      continue; /* park_loop answers */
    } else if (strcmp(line, "unpark\n") == 0) {
      if (write(park_pipe[1], "x", 1) != 1) return 4;
      pthread_join(parked, NULL);
      printf("unparked %ld\n", parked_result);
    } else if (strncmp(line, "quit", 4) == 0) {
      exit(atoi(line + 4));
    } else {
      printf("bad command %s", line);
    }
    fflush(stdout);
  }
  return 0;
}
