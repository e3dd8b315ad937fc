/* The portable benchmark target (bench/vm): calls probed() CALLS times from
 * one thread of its own and prints how long a call took on average, measured
 * inside the program, so tracer start-up is not counted:
 *   target CALLS  ->  "calls N threads 1 ns_per_call X wall_s Y cpu_ns_per_call Z"
 * (the line bench/target.c prints; Z: the process's CPU time per call).
 * With BENCH_MARK=PATH (bench/vm: the VM's /dev/console) it also writes
 * "XA-MARK start" and "XA-MARK end" to PATH around the calls, for the host
 * to read qemu's CPU time at each.
 * probed() is a few instructions of assembly for each ISA whose first one is
 * a nop: the minimal tracer (min_tracer.c) then has nothing to emulate but
 * "pc moves past it", and every uptrace mode can take it (boost copies it,
 * trap steps it, emulate computes it). It touches no memory, so on ppc64le it
 * needs no TOC: its local entry is its global entry (st_other 0), and the
 * probe, uptrace's and the minimal tracer's, is at its first instruction. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long probed(long x);

#if defined(__x86_64__)
__asm__(".text\n.globl probed\n.type probed, @function\nprobed:\n"
        "  nop\n"
        "  lea 1(%rdi), %rax\n"
        "  ret\n"
        ".size probed, .-probed\n");
#elif defined(__aarch64__)
__asm__(".text\n.globl probed\n.type probed, %function\n.p2align 2\nprobed:\n"
        "  nop\n"
        "  add x0, x0, #1\n"
        "  ret\n"
        ".size probed, .-probed\n");
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
__asm__(".text\n.globl probed\n.type probed, @function\n.p2align 2\nprobed:\n"
        "  nop\n"
        "  addi 3, 3, 1\n"
        "  blr\n"
        ".size probed, .-probed\n");
#elif defined(__riscv) && __riscv_xlen == 64
/* norvc: a 4-byte nop (addi x0, x0, 0), not c.nop, so the minimal tracer's
 * ebreak replaces exactly one instruction whatever the -march. */
__asm__(".text\n.globl probed\n.type probed, @function\n.p2align 2\nprobed:\n"
        "  .option push\n  .option norvc\n"
        "  nop\n"
        "  .option pop\n"
        "  addi a0, a0, 1\n"
        "  ret\n"
        ".size probed, .-probed\n");
#else
#error "no probed() for this ISA: add one whose first instruction is a nop"
#endif

static long calls;
static volatile long sink; /* the calls' results go here: none can be dropped */

static double clock_s(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In a thread, as in bench/target.c: the tracer must follow a clone, which
 * uptrace and the minimal tracer then both handle. */
static void *loop(void *arg) {
  (void)arg;
  long sum = 0;
  for (long i = 0; i < calls; i++) sum += probed(i);
  sink = sum;
  return NULL;
}

static void mark(const char *what) {
  const char *path = getenv("BENCH_MARK");
  if (!path) return;
  int fd = open(path, O_WRONLY | O_NOCTTY | O_APPEND);
  if (fd < 0) return;
  char line[64];
  snprintf(line, sizeof line, "XA-MARK %s\n", what);
  if (write(fd, line, strlen(line)) < 0) {
  }
  close(fd);
}

int main(int argc, char **argv) {
  calls = argc > 1 ? atol(argv[1]) : 1000000;
  if (calls <= 0) {
    fprintf(stderr, "usage: target CALLS (CALLS > 0)\n");
    return 2;
  }
  mark("start");
  double start = clock_s(CLOCK_MONOTONIC), cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  pthread_t t;
  if (pthread_create(&t, NULL, loop, NULL) != 0) return 1;
  pthread_join(t, NULL);
  double wall = clock_s(CLOCK_MONOTONIC) - start, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  mark("end");
  printf("calls %ld threads 1 ns_per_call %.1f wall_s %.3f cpu_ns_per_call %.1f\n", calls, wall * 1e9 / (double)calls,
         wall, cpu * 1e9 / (double)calls);
  return 0;
}
