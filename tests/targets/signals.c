/* A worker thread calls work() in a tight loop while the main thread sends
 * it SIGUSR1 ROUNDS times. The handler checks the interrupted pc from its
 * ucontext: it must be in this program's code, never in a tracer's slot.
 * Prints "handled=N outside=M" (M must be 0), then "calls=C": how many
 * times work() was called, which a probe on it must count exactly. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

extern char __executable_start[], etext[];
static volatile long handled, outside, done, running, calls;
volatile long sink;

__attribute__((noinline)) long work(long x) {
  sink += x;
  return sink;
}

static void on_usr1(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)info;
#if defined(__x86_64__)
  unsigned long pc = (unsigned long)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
#elif defined(__aarch64__)
  unsigned long pc = (unsigned long)((ucontext_t *)ctx)->uc_mcontext.pc;
#elif defined(__powerpc64__)
  unsigned long pc = (unsigned long)((ucontext_t *)ctx)->uc_mcontext.gp_regs[32];  // PT_NIP
#elif defined(__riscv)
  unsigned long pc = (unsigned long)((ucontext_t *)ctx)->uc_mcontext.__gregs[REG_PC];
#else
#error "the interrupted pc: add this ISA's ucontext field"
#endif
  if (pc < (unsigned long)__executable_start || pc >= (unsigned long)etext) outside++;
  handled++;
}

static void *loop(void *arg) {
  (void)arg;
  running = 1;
  for (long i = 0; !done; i++) {
    work(i);
    calls++;
  }
  return NULL;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 2000;
  struct sigaction sa = {0};
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t t;
  pthread_create(&t, NULL, loop, NULL);
  /* Before the worker is in loop() its pc is in libc's thread start. */
  while (!running) sched_yield();
  for (long i = 0; i < rounds; i++) {
    long before = handled;
    pthread_kill(t, SIGUSR1);
    while (handled == before) sched_yield();
  }
  done = 1;
  pthread_join(t, NULL);
  printf("handled=%ld outside=%ld\ncalls=%ld\n", handled, outside, calls);
  return outside != 0;
}
