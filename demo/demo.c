/* The bundled demo target: a small multi-threaded "service" that handles
 * requests forever (or N rounds), so uptrace has something to probe:
 *   uptrace 'handle_request $arg1 len=$arg2:u32' -- ./uptrace-demo 5 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct request {
  int id;
  unsigned len;
  char path[32];
};

unsigned long served;
pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

__attribute__((noinline)) unsigned long handle_request(int id, unsigned len, const char *path) {
  unsigned long h = 1469598103934665603ul;
  for (unsigned i = 0; i < len && path[i]; i++) h = (h ^ (unsigned char)path[i]) * 1099511628211ul;
  pthread_mutex_lock(&lock);
  served++;
  pthread_mutex_unlock(&lock);
  return h ^ (unsigned long)id;
}

static void *worker(void *arg) {
  long rounds = (long)arg;
  static const char *paths[] = {"/index.html", "/api/users", "/favicon.ico"};
  for (long i = 0; rounds < 0 || i < rounds; i++) {
    struct request r = {.id = (int)i, .len = 0};
    strcpy(r.path, paths[i % 3]);
    r.len = (unsigned)strlen(r.path);
    handle_request(r.id, r.len, r.path);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : -1;  /* -1: run until killed */
  pthread_t t[2];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, worker, (void *)rounds);
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  printf("served %lu requests\n", served);
  return 0;
}
