/* THREADS threads call work(index, round) CALLS times each with their fs
 * base moved to a block of their own whose first word is 0, as Go's threads
 * keep theirs (glibc's keep a pointer to the block itself there, which jump
 * trampolines read to name a hit's thread; with 0 there they ask the kernel,
 * by a gettid system call). While moved, the loop touches no libc: the raw
 * arch_prctl system calls go around it. Prints "total N failed F".
 *
 * With SIGNALS (argv[3]), the threads call work() until the main thread has
 * sent them SIGUSR1 SIGNALS times, to each in turn, one at a time; the
 * handler (which touches no libc either) checks that the interrupted pc is
 * in this program's code, never in a tracer's trampoline, and the program
 * prints "handled=N outside=M" instead (M must be 0).
 * x86-64 only (arch_prctl). */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <ucontext.h>

static long calls, signals;
static volatile long handled, outside, running, done;
volatile long sink;
extern char __executable_start[], etext[];

__attribute__((noinline)) long work(long index, long round) {
  sink += index + round;
  return sink;
}

static long raw_arch_prctl(long code, unsigned long addr) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_arch_prctl), "D"(code), "S"(addr) : "rcx", "r11", "memory");
  return ret;
}

static void on_usr1(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)info;
  unsigned long pc = (unsigned long)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
  if (pc < (unsigned long)__executable_start || pc >= (unsigned long)etext) outside++;
  handled++;
}

static void *loop(void *arg) {
  long index = (long)arg;
  static __thread long unused;  /* a TLS block of glibc's own, for contrast */
  (void)unused;
  unsigned long own = 0;
  raw_arch_prctl(ARCH_GET_FS, (unsigned long)&own);
  unsigned long *block = calloc(512, sizeof(unsigned long));  /* fs:0 is 0, fs:0x28 (the canary) readable */
  if (raw_arch_prctl(ARCH_SET_FS, (unsigned long)block) != 0) return (void *)1;
  __atomic_fetch_add(&running, 1, __ATOMIC_SEQ_CST);
  for (long round = 0; signals ? !done : round < calls; round++) work(index, round);
  raw_arch_prctl(ARCH_SET_FS, own);
  free(block);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  calls = argc > 2 ? atol(argv[2]) : 1000;
  signals = argc > 3 ? atol(argv[3]) : 0;
  struct sigaction sa = {0};
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t t[64];
  for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, loop, (void *)i);
  /* Each thread is in its loop, with its own fs, before the first signal. */
  while (signals && running < threads) sched_yield();
  for (long i = 0; i < signals; i++) {
    long before = handled;
    pthread_kill(t[i % threads], SIGUSR1);
    while (handled == before) sched_yield();
  }
  done = 1;
  long failed = 0;
  for (long i = 0; i < threads; i++) {
    void *r;
    pthread_join(t[i], &r);
    failed += r != NULL;
  }
  if (signals) {
    printf("handled=%ld outside=%ld\n", handled, outside);
    return outside != 0 || failed != 0;
  }
  printf("total %ld failed %ld\n", threads * calls, failed);
  return 0;
}
