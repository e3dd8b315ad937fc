/* Threads are created and exit all the time: BATCHES batches of WIDTH
 * threads, each calling work() CALLS times. Prints the number of calls. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long calls;
static long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) long work(long x) { return x * 3; }

static void *run(void *arg) {
  long sum = 0;
  for (long i = 0; i < calls; i++) sum += work(i + (long)arg) & 1;
  pthread_mutex_lock(&lock);
  total += calls;
  pthread_mutex_unlock(&lock);
  return (void *)sum;
}

int main(int argc, char **argv) {
  long batches = argc > 1 ? atol(argv[1]) : 20;
  long width = argc > 2 ? atol(argv[2]) : 16;
  calls = argc > 3 ? atol(argv[3]) : 50;
  pthread_t t[256];
  for (long b = 0; b < batches; b++) {
    for (long i = 0; i < width; i++) pthread_create(&t[i], NULL, run, (void *)i);
    for (long i = 0; i < width; i++) pthread_join(t[i], NULL);
  }
  printf("calls=%ld\n", total);
  return 0;
}
