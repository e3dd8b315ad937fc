/* THREADS threads (at most 16) call work(index, round) CALLS times each,
 * all made by clone() without CLONE_SETTLS: they keep the main thread's
 * thread pointer (x86-64's fs base, aarch64's tpidr_el0, ppc64le's r13,
 * riscv64's tp), so it names none of them. They touch no libc (its TLS is
 * the main thread's); glibc's clone() runs them on stacks of their own and
 * ends them with the exit system call. The main thread calls no work() and
 * waits for each by the futex the kernel clears at its exit. Prints
 * "thread INDEX TID" for each, then "total N". */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 16
#define STACK_SIZE (256 * 1024)

static long calls;
volatile long sink;

__attribute__((noinline)) long work(long index, long round) {
  sink += index + round;
  return sink;
}

static int loop(void *arg) {
  long index = (long)arg;
  for (long round = 0; round < calls; round++) work(index, round);
  return 0;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 4;
  calls = argc > 2 ? atol(argv[2]) : 1000;
  if (threads < 1 || threads > MAX_THREADS) return 2;
  /* Set by the kernel to the thread's id before it runs, cleared (and the
   * futex woken) when it has exited. */
  static pid_t alive[MAX_THREADS];
  pid_t tids[MAX_THREADS];
  void *stacks[MAX_THREADS];
  const int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
  for (long i = 0; i < threads; i++) {
    stacks[i] = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stacks[i] == MAP_FAILED) return 3;
    /* Stacks grow down on every ISA this runs on. */
    tids[i] = clone(loop, (char *)stacks[i] + STACK_SIZE, flags, (void *)i, &alive[i], NULL, &alive[i]);
    if (tids[i] < 0) return 4;
  }
  for (int i = 0; i < threads; i++) {
    pid_t t;
    while ((t = __atomic_load_n(&alive[i], __ATOMIC_ACQUIRE)) != 0)
      syscall(SYS_futex, &alive[i], FUTEX_WAIT, t, NULL, NULL, 0);
    munmap(stacks[i], STACK_SIZE);
  }
  for (int i = 0; i < threads; i++) printf("thread %d %d\n", i, (int)tids[i]);
  printf("total %ld\n", threads * calls);
  return 0;
}
