/* The benchmark's traced program: calls probed() CALLS times from THREADS
 * threads and prints how long a call took on average, measured inside the
 * program, so tracer start-up is not counted:
 *   target CALLS [THREADS]  ->  "calls N threads T ns_per_call X wall_s Y cpu_ns_per_call Z"
 * (Z: the process's CPU time per call per thread, which a busy machine
 * inflates less than the wall-clock X)
 * probed0..probed9 exist for the arming benchmark; with CALLS = 0 the
 * program prints "ready PID" and waits to be killed. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

volatile long sink;

/* probed() starts with push rbp / mov rbp, rsp whatever the compiler
 * does, so every mode (and the minimal tracer's emulated push) applies. */
long probed(long x);
__asm__(
    ".globl probed\n"
    ".type probed, @function\n"
    "probed:\n"
    "  push %rbp\n"
    "  mov %rsp, %rbp\n"
    "  add %rdi, sink(%rip)\n"
    "  mov sink(%rip), %rax\n"
    "  pop %rbp\n"
    "  ret\n"
    ".size probed, .-probed\n");

#define PROBED(name)                                                  \
  __attribute__((noinline)) long name(long x) {                     \
    sink += x;                                                        \
    return sink;                                                      \
  }
PROBED(probed0) PROBED(probed1) PROBED(probed2) PROBED(probed3) PROBED(probed4)
PROBED(probed5) PROBED(probed6) PROBED(probed7) PROBED(probed8) PROBED(probed9)

static long calls;

static double clock_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }

static void *loop(void *arg) {
  (void)arg;
  for (long i = 0; i < calls; i++) probed(i);
  return NULL;
}

int main(int argc, char **argv) {
  calls = argc > 1 ? atol(argv[1]) : 1000000;
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  if (calls == 0) {
    printf("ready %d\n", getpid());
    fflush(stdout);
    for (;;) {
      probed0(1), probed1(1), probed2(1), probed3(1), probed4(1);
      probed5(1), probed6(1), probed7(1), probed8(1), probed9(1);
      usleep(1000);
    }
  }
  double start = now(), cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  pthread_t t[64];
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, loop, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  double wall = now() - start, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  printf("calls %ld threads %d ns_per_call %.1f wall_s %.3f cpu_ns_per_call %.1f\n", calls * threads, threads,
         wall * 1e9 / (double)calls, wall, cpu * 1e9 / (double)calls / threads);
  return 0;
}
