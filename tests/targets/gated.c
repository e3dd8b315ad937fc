/* THREADS threads each call work(index, round) CALLS times, but only once
 * the process gets SIGUSR1, so a test can attach first (-p) and know how
 * many hits are coming: prints "ready PID", waits, runs, then prints
 * "total N" (the number of calls) and exits. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long calls;
volatile long sink;

__attribute__((noinline)) long work(long index, long round) {
  sink += index + round;
  return sink;
}

static void *loop(void *arg) {
  long index = (long)arg;
  for (long round = 0; round < calls; round++) work(index, round);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  calls = argc > 2 ? atol(argv[2]) : 1000;
  sigset_t go;
  sigemptyset(&go);
  sigaddset(&go, SIGUSR1);
  sigprocmask(SIG_BLOCK, &go, NULL);
  printf("ready %d\n", getpid());
  fflush(stdout);
  int sig = 0;
  sigwait(&go, &sig);
  pthread_t t[64];
  for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, loop, (void *)i);
  for (long i = 0; i < threads; i++) pthread_join(t[i], NULL);
  printf("total %ld\n", (long)threads * calls);
  return 0;
}
