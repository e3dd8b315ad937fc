/* A long-running multi-threaded target for -p tests: THREADS threads call
 * work() in a loop, pausing PAUSE_US microseconds between calls (0: none),
 * until killed. Prints "ready PID" once every thread runs. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static long pause_us;
volatile long sink;

__attribute__((noinline)) long work(long index, long round, const char *name) {
  sink += index + round + name[0];
  return sink;
}

static void *loop(void *arg) {
  long index = (long)arg;
  for (long round = 0;; round++) {
    work(index, round, "busy");
    if (pause_us) usleep((useconds_t)pause_us);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  pause_us = argc > 2 ? atol(argv[2]) : 1000;
  pthread_t t;
  for (long i = 0; i < threads; i++) pthread_create(&t, NULL, loop, (void *)i);
  printf("ready %d\n", getpid());
  fflush(stdout);
  for (;;) pause();
}
