/* A program whose executable's mappings span most of the address space, as
 * node's do once it remaps part of its text high (large pages): it maps a
 * page of its own file at a high address, then prints "ready PID" and calls
 * work() in a loop until killed. A tracer that wants one scratch mapping
 * within reach of the whole "module" finds no room; slots placed near each
 * probed function do. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

volatile long sink;

__attribute__((noinline)) long work(long x) {
  sink += x;
  return sink;
}

int main(void) {
  long page = sysconf(_SC_PAGESIZE);
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  /* 2^37: user space on every ISA (riscv64's Sv39 too), and tens of GiB
   * from wherever the executable is loaded. */
  uintptr_t high = (uintptr_t)1 << 37;
  void *at = mmap((void *)high, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, page);
  if (at == MAP_FAILED) return 3;
  printf("ready %d\n", getpid());
  fflush(stdout);
  for (long i = 0;; i++) {
    work(i);
    usleep(100);
  }
}
