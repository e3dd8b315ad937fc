/* A program that changes its own code, as a JIT or a debugger would, for
 * probes whose bytes in memory differ from the file: at start it rewrites
 * the first instruction of changed_fn (mov rax, rdi: 48 89 f8) into another
 * encoding of the same instruction (48 8b c7), and puts an int3 over the
 * first byte of trapped_fn, as another debugger's leftover breakpoint
 * would be, and one 3 bytes into window_fn, inside the 5 bytes a jump to a
 * trampoline would overwrite (as a kernel uprobe placed by perf probe at
 * window_fn+3 would be). Then it prints "ready PID" and calls changed_fn and
 * plain_fn in a loop until killed. trapped_fn and window_fn are never
 * called. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

__asm__(".text\n"
        ".globl changed_fn\n.type changed_fn, @function\n.p2align 4\n"
        "changed_fn:\n.byte 0x48, 0x89, 0xf8\n.byte 0xc3\n.size changed_fn, . - changed_fn\n"
        ".globl trapped_fn\n.type trapped_fn, @function\n.p2align 4\n"
        "trapped_fn:\n.byte 0x48, 0x89, 0xf8\n.byte 0xc3\n.size trapped_fn, . - trapped_fn\n"
        ".globl plain_fn\n.type plain_fn, @function\n.p2align 4\n"
        "plain_fn:\n.byte 0x48, 0x89, 0xf8\n.byte 0xc3\n.size plain_fn, . - plain_fn\n"
        ".globl window_fn\n.type window_fn, @function\n.p2align 4\n"
        "window_fn:\n.byte 0x48, 0x89, 0xf8\n.byte 0x48, 0x89, 0xc2\n.byte 0xc3\n.size window_fn, . - window_fn\n");

long changed_fn(long);
long trapped_fn(long);
long plain_fn(long);
long window_fn(long);

static void poke(void *at, const void *bytes, size_t n) {
  long page = sysconf(_SC_PAGESIZE);
  uintptr_t start = (uintptr_t)at & ~(uintptr_t)(page - 1);
  uintptr_t end = ((uintptr_t)at + n + page - 1) & ~(uintptr_t)(page - 1);
  if (mprotect((void *)start, end - start, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) _exit(3);
  memcpy(at, bytes, n);
  if (mprotect((void *)start, end - start, PROT_READ | PROT_EXEC) != 0) _exit(3);
}

volatile long sink;

int main(void) {
  poke((void *)changed_fn, "\x48\x8b\xc7", 3);
  poke((void *)trapped_fn, "\xcc", 1);
  poke((char *)window_fn + 3, "\xcc", 1);
  printf("ready %d\n", getpid());
  fflush(stdout);
  for (long i = 0;; i++) {
    sink += changed_fn(i) + plain_fn(i);
    usleep(100);
  }
}
