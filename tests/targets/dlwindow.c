/* A library loaded later that stays (argv[1], libdlstay.so) is called by a
 * second thread without pause while the main thread loads and unloads
 * another one (argv[2], libdlcycle.so) CYCLES times (argv[3]): the calls
 * made while the dynamic loader is between announcing an unload (RT_DELETE)
 * and being consistent again are calls like any other. Prints
 * "stay CALLS cycle CYCLES" at the end. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_int stop;
static long (*stay_work)(long);

static void *open_or_die(const char *lib) {
  void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    printf("dlopen: %s\n", dlerror());
    exit(3);
  }
  return h;
}

static void *caller(void *arg) {
  long *calls = arg;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    stay_work(*calls);
    ++*calls;
  }
  return NULL;
}

int main(int argc, char **argv) {
  const char *stay = argc > 1 ? argv[1] : "libdlstay.so";
  const char *cycling = argc > 2 ? argv[2] : "libdlcycle.so";
  const long cycles = argc > 3 ? atol(argv[3]) : 100;
  stay_work = (long (*)(long))dlsym(open_or_die(stay), "dlstay_work");
  long calls = 0;
  pthread_t worker;
  pthread_create(&worker, NULL, caller, &calls);
  for (long i = 0; i < cycles; i++) {
    void *h = open_or_die(cycling);
    ((long (*)(long))dlsym(h, "dlcycle_work"))(i);
    dlclose(h);
  }
  atomic_store(&stop, 1);
  pthread_join(worker, NULL);
  printf("stay %ld cycle %ld\n", calls, cycles);
  return 0;
}
