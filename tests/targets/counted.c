/* THREADS threads each call work() CALLS times, then the program prints the
 * checksum and exits: for exact hit counts in launch mode. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static long calls;
static long total;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) long work(long index, long round) { return index * 1000003 + round; }

static void *loop(void *arg) {
  long index = (long)arg, sum = 0;
  for (long round = 0; round < calls; round++) sum += work(index, round);
  pthread_mutex_lock(&lock);
  total += sum;
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  calls = argc > 2 ? atol(argv[2]) : 1000;
  pthread_t t[64];
  for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, loop, (void *)i);
  for (long i = 0; i < threads; i++) pthread_join(t[i], NULL);
  printf("total %ld\n", total);
  return 0;
}
