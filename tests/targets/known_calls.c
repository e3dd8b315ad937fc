/* Calls whose arguments the tests know exactly, for filters and
 * aggregations (SPEC.md "Filters", "Latency and aggregation"):
 *   items ROUNDS   each round calls item(n, path, n * 3) for n = -50..49, with
 *                  path = kPaths[(n + 50) % 4]; prints "items CALLS"
 *   sizes          size_of(v) once for each value of kSizes; prints "sizes N"
 *   kinds          kind(k) k times for k = 1..5; prints "kinds 15"
 *   threads T N    thread t (0-based) calls kind(t + 1) N * (t + 1) times;
 *                  prints "threads CALLS"
 *   nap US COUNT   nap(US) COUNT times: nap sleeps US microseconds; prints
 *                  "naps COUNT" */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NOINLINE __attribute__((noinline, noclone))

static volatile long sink;

static const char *const kPaths[] = {"/etc/passwd", "/tmp/a", "/etc/hosts", "/var/log/x"};

NOINLINE long item(long n, const char *path, long triple) {
  sink += n + (long)strlen(path) + triple;
  return sink;
}

/* One negative, two zeros-and-ones, and gaps between buckets: the histogram's
 * empty buckets between the smallest and the largest value are printed too. */
static const long kSizes[] = {-5, 0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 1000, 1023, 1024, 70000};

NOINLINE long size_of(long v) {
  sink += v;
  return sink;
}

NOINLINE long kind(long k) {
  sink += k;
  return sink;
}

NOINLINE long nap(long us) {
  struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&ts, &ts) != 0) {
  }
  return us;
}

static long per_thread;

static void *kind_loop(void *arg) {
  long t = (long)arg;
  for (long i = 0; i < per_thread * (t + 1); i++) kind(t + 1);
  return NULL;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "items";
  if (strcmp(what, "items") == 0) {
    long rounds = argc > 2 ? atol(argv[2]) : 1, calls = 0;
    for (long r = 0; r < rounds; r++)
      for (long n = -50; n < 50; n++, calls++) item(n, kPaths[(n + 50) % 4], n * 3);
    printf("items %ld\n", calls);
  } else if (strcmp(what, "sizes") == 0) {
    size_t count = sizeof kSizes / sizeof kSizes[0];
    for (size_t i = 0; i < count; i++) size_of(kSizes[i]);
    printf("sizes %zu\n", count);
  } else if (strcmp(what, "kinds") == 0) {
    for (long k = 1; k <= 5; k++)
      for (long i = 0; i < k; i++) kind(k);
    printf("kinds 15\n");
  } else if (strcmp(what, "threads") == 0) {
    int threads = argc > 2 ? atoi(argv[2]) : 3;
    per_thread = argc > 3 ? atol(argv[3]) : 100;
    pthread_t t[16];
    long calls = 0;
    for (long i = 0; i < threads && i < 16; i++) {
      pthread_create(&t[i], NULL, kind_loop, (void *)i);
      calls += per_thread * (i + 1);
    }
    for (long i = 0; i < threads && i < 16; i++) pthread_join(t[i], NULL);
    printf("threads %ld\n", calls);
  } else if (strcmp(what, "nap") == 0) {
    long us = argc > 2 ? atol(argv[2]) : 1000, count = argc > 3 ? atol(argv[3]) : 1;
    for (long i = 0; i < count; i++) nap(us);
    printf("naps %ld\n", count);
  } else {
    fprintf(stderr, "usage: known_calls items|sizes|kinds|threads|nap ...\n");
    return 2;
  }
  return 0;
}
