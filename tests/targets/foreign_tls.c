/* THREADS threads call work(index, round) CALLS times each with their fs
 * base moved to a block of their own whose first word is 0, as Go's threads
 * keep theirs (glibc's keep a pointer to the block itself there, which jump
 * trampolines read to name a hit's thread). While moved, the loop touches
 * no libc: the raw arch_prctl system calls go around it. Prints "total N".
 * x86-64 only (arch_prctl). */
#include <asm/prctl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>

static long calls;
volatile long sink;

__attribute__((noinline)) long work(long index, long round) {
  sink += index + round;
  return sink;
}

static long raw_arch_prctl(long code, unsigned long addr) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"((long)SYS_arch_prctl), "D"(code), "S"(addr) : "rcx", "r11", "memory");
  return ret;
}

static void *loop(void *arg) {
  long index = (long)arg;
  static __thread long unused;  /* a TLS block of glibc's own, for contrast */
  (void)unused;
  unsigned long own = 0;
  raw_arch_prctl(ARCH_GET_FS, (unsigned long)&own);
  unsigned long *block = calloc(512, sizeof(unsigned long));  /* fs:0 is 0, fs:0x28 (the canary) readable */
  if (raw_arch_prctl(ARCH_SET_FS, (unsigned long)block) != 0) return (void *)1;
  for (long round = 0; round < calls; round++) work(index, round);
  raw_arch_prctl(ARCH_SET_FS, own);
  free(block);
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  calls = argc > 2 ? atol(argv[2]) : 1000;
  pthread_t t[64];
  for (long i = 0; i < threads; i++) pthread_create(&t[i], NULL, loop, (void *)i);
  long failed = 0;
  for (long i = 0; i < threads; i++) {
    void *r;
    pthread_join(t[i], &r);
    failed += r != NULL;
  }
  printf("total %ld failed %ld\n", threads * calls, failed);
  return 0;
}
