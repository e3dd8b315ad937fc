/* The portable benchmark target (bench/vm): calls probed() CALLS times from
 * one thread of its own and prints how long a call took on average, measured
 * inside the program, so tracer start-up is not counted:
 *   target CALLS [inproc]  ->  "calls N threads 1 ns_per_call X wall_s Y cpu_ns_per_call Z waits W"
 * (the line bench/target.c prints; Z: the process's CPU time per call; W:
 * how often the calling thread waited, its voluntary context switches).
 * With "inproc" the program first probes probed() itself, as uptrace's jump
 * mode would from outside (see "The in-process trampoline" below): the
 * reference jump's per-hit cost is measured against.
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
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

long probed(long x);

#if defined(__x86_64__)
__asm__(".text\n.globl probed\n.type probed, @function\nprobed:\n"
        "  nop\n"
        "  lea 1(%rdi), %rax\n"
        ".Lprobed_back:\n" /* where the in-process trampoline returns to */
        "  ret\n"
        ".size probed, .-probed\n");
#elif defined(__aarch64__)
__asm__(".text\n.globl probed\n.type probed, %function\n.p2align 2\nprobed:\n"
        "  nop\n"
        ".Lprobed_back:\n"
        "  add x0, x0, #1\n"
        "  ret\n"
        ".size probed, .-probed\n");
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
__asm__(".text\n.globl probed\n.type probed, @function\n.p2align 2\nprobed:\n"
        "  nop\n"
        ".Lprobed_back:\n"
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
        ".Lprobed_back:\n"
        "  addi a0, a0, 1\n"
        "  ret\n"
        ".size probed, .-probed\n");
#else
#error "no probed() for this ISA: add one whose first instruction is a nop"
#endif

/* The in-process trampoline ("target CALLS inproc"): what one hit of
 * uptrace's jump mode costs, without uptrace. The program itself maps a
 * ring of uptrace's layout (common/ring_layout.h: a memfd mapped shared, as
 * uptrace makes it in the target, so the first lap faults its pages in the
 * same way; 2^18 records of 64 bytes, kDefaultCapacity), then patches
 * probed()'s first instruction (mprotect and a write) with a branch to
 * inproc_tramp, which does per hit what uptrace's trampoline does for
 * run-bench.sh's probe `probed a=$arg1` (arch/x86_64/jump.cpp,
 * arch/aarch64/jump.cpp): save the registers it uses (and the flags where
 * its instructions change them), reserve the record at head with an atomic
 * operation (lock cmpxchg, ldaxr/stlxr, ldarx/stdcx., lr/sc) after checking
 * head - tail against the capacity, read the cycle counter (rdtsc,
 * cntvct_el0, mftb, rdtime), write the time, the thread's name, the probe
 * and value count and the first argument register, publish the record by
 * writing its commit word last with a release store, restore the
 * registers, run the displaced instructions and branch back. What differs
 * (the first two cost a few instructions; the third is a system call on
 * aarch64):
 *  - nothing drains this ring: it wraps. The full check is kept (a load of
 *    tail, a subtraction, a compare and a branch) against a limit of 2^31
 *    records that no run reaches, not against the capacity;
 *  - the ring's address is loaded from inproc_ring (one load that hits the
 *    cache) where uptrace writes it into the code as an immediate;
 *  - the thread is named by the thread pointer (fs:[0], as uptrace does on
 *    x86-64; tpidr_el0, r13, tp elsewhere), which costs no system call.
 *    uptrace's aarch64 trampoline asks the kernel (gettid) instead:
 *    "target CALLS inproc-gettid" does that too on x86-64 (the ring's
 *    thread-id mode word switches uptrace's own path, as there) and on
 *    aarch64, so that a system call's share of a jump hit shows;
 *  - ppc64le and riscv64 have no jump mode in uptrace yet: their
 *    trampolines are written the same way, not copied from one. */
#define INPROC_SHIFT 18
__attribute__((visibility("hidden"))) void *inproc_ring;
void inproc_tramp(void), inproc_tramp_gettid(void);

#if defined(__x86_64__)
/* uptrace's x86-64 trampoline, instruction for instruction (short jumps
 * where it uses rel32 forms); the thread-id mode word at ring + 192 picks
 * fs:[0] (1) or gettid (2), as in uptrace. */
__asm__(".text\n.globl inproc_tramp, inproc_tramp_gettid\n.hidden inproc_tramp, inproc_tramp_gettid\n"
        ".type inproc_tramp, @function\ninproc_tramp:\ninproc_tramp_gettid:\n"
        "  lea -128(%rsp), %rsp\n" /* the red zone is the program's */
        "  push %rax\n  lahf\n  seto %al\n"
        "  push %rax\n  push %rcx\n  push %rdx\n  push %rsi\n"
        "  mov inproc_ring(%rip), %rsi\n"
        "1:\n"
        "  mov 64(%rsi), %rdx\n" /* tail, then head */
        "  mov (%rsi), %rax\n"
        "  mov %rax, %rcx\n"
        "  sub %rdx, %rcx\n"
        "  cmp $0x7fffffff, %rcx\n"
        "  jae 3f\n"
        "  lea 1(%rax), %rdx\n" /* the commit word */
        "  lock cmpxchg %rdx, (%rsi)\n"
        "  jne 1b\n"
        "  and $0x3ffff, %eax\n"
        "  shl $6, %eax\n"
        "  lea 4096(%rsi,%rax), %rcx\n" /* the record */
        "  xor %eax, %eax\n"
        "  cmpq $1, 192(%rsi)\n"
        "  jb 2f\n"
        "  ja 4f\n"
        "  mov %fs:0, %rax\n"
        "  test %rax, %rax\n"
        "  jnz 2f\n"
        "4:\n"
        "  push %rcx\n  push %r11\n"
        "  mov $186, %eax\n" /* SYS_gettid */
        "  syscall\n"
        "  pop %r11\n  pop %rcx\n"
        "  bts $63, %rax\n"
        "2:\n"
        "  mov %rax, 16(%rcx)\n"
        "  mov %rdx, %rsi\n"
        "  rdtsc\n"
        "  shl $32, %rdx\n"
        "  or %rdx, %rax\n"
        "  mov %rax, 8(%rcx)\n"
        "  movabs $0x100000000, %rax\n" /* probe 0, 1 value */
        "  mov %rax, 24(%rcx)\n"
        "  mov %rdi, 32(%rcx)\n"
        "  mov %rsi, (%rcx)\n" /* published */
        "  pop %rsi\n  pop %rdx\n  pop %rcx\n  pop %rax\n"
        "  add $0x7f, %al\n  sahf\n  pop %rax\n"
        "  lea 128(%rsp), %rsp\n"
        "  nop\n" /* the 5 bytes the jmp covers: nop, lea */
        "  lea 1(%rdi), %rax\n"
        "  jmp .Lprobed_back\n"
        "3:\n"
        "  int3\n" /* never: 2^31 records */
        "  jmp 1b\n"
        ".size inproc_tramp, .-inproc_tramp\n");
#elif defined(__aarch64__)
/* uptrace's aarch64 trampoline (its frame of x0-x4 and x8; a failed stlxr
 * goes back to the site), with the thread pointer or gettid as its name. */
__asm__(".macro INPROC_TRAMP name, gettid\n"
        ".globl \\name\n.hidden \\name\n.type \\name, %function\n.p2align 2\n\\name:\n"
        "  stp x0, x1, [sp, #-48]!\n"
        "  stp x2, x3, [sp, #16]\n"
        "  stp x4, x8, [sp, #32]\n"
        "  adrp x1, inproc_ring\n"
        "  ldr x1, [x1, #:lo12:inproc_ring]\n"
        "1:\n"
        "  add x2, x1, #64\n"
        "  ldar x2, [x2]\n" /* tail, then head */
        "  ldaxr x3, [x1]\n"
        "  sub x4, x3, x2\n"
        "  lsr x4, x4, #31\n"
        "  cbnz x4, 3f\n"
        "  add x4, x3, #1\n"
        "  stlxr w2, x4, [x1]\n"
        "  cbnz w2, 4f\n"
        "  mrs x2, cntvct_el0\n"
        "  .if \\gettid\n"
        "  movz x8, #178\n" /* SYS_gettid */
        "  svc #0\n"
        "  orr x0, x0, #0x8000000000000000\n"
        "  .else\n"
        "  mrs x0, tpidr_el0\n"
        "  .endif\n"
        "  add x4, x3, #0\n"
        "  and x4, x4, #0x3ffff\n"
        "  add x4, x1, x4, lsl #6\n"
        "  add x4, x4, #1, lsl #12\n" /* the record */
        "  str x2, [x4, #8]\n"
        "  str x0, [x4, #16]\n"
        "  movz x8, #1, lsl #32\n" /* probe 0, 1 value */
        "  str x8, [x4, #24]\n"
        "  ldr x8, [sp]\n" /* x0 at the site */
        "  str x8, [x4, #32]\n"
        "  add x8, x3, #1\n"
        "  stlr x8, [x4]\n" /* published */
        "  b 5f\n"
        "3:\n"
        "  brk #0\n" /* never: 2^31 records */
        "  b 1b\n"
        "4:\n"
        "  ldp x4, x8, [sp, #32]\n  ldp x2, x3, [sp, #16]\n  ldp x0, x1, [sp], #48\n"
        "  b probed\n"
        "5:\n"
        "  ldp x4, x8, [sp, #32]\n  ldp x2, x3, [sp, #16]\n  ldp x0, x1, [sp], #48\n"
        "  nop\n"
        "  b .Lprobed_back\n"
        ".size \\name, .-\\name\n"
        ".endm\n"
        ".text\n"
        "INPROC_TRAMP inproc_tramp, 0\n"
        "INPROC_TRAMP inproc_tramp_gettid, 1\n");
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
/* r2 is the program's TOC at the site (loop() calls probed() within the
 * module), so the ring's address is one TOC-relative load; r13 is the
 * thread pointer. CR0 (changed by srdi. and stdcx.) is saved with mfcr. */
__asm__(".text\n.globl inproc_tramp\n.hidden inproc_tramp\n.type inproc_tramp, @function\n.p2align 2\n"
        "inproc_tramp:\n"
        "  addi 1, 1, -336\n" /* below the ABI's 288-byte protected zone */
        "  std 4, 0(1)\n  std 5, 8(1)\n  std 6, 16(1)\n  std 7, 24(1)\n  std 8, 32(1)\n"
        "  mfcr 8\n  std 8, 40(1)\n"
        "  addis 4, 2, inproc_ring@toc@ha\n"
        "  ld 4, inproc_ring@toc@l(4)\n"
        "1:\n"
        "  ld 5, 64(4)\n" /* tail, then head */
        "  lwsync\n"
        "  ldarx 6, 0, 4\n"
        "  subf 7, 5, 6\n"
        "  srdi. 7, 7, 31\n"
        "  bne- 3f\n"
        "  addi 7, 6, 1\n"
        "  stdcx. 7, 0, 4\n"
        "  bne- 1b\n"
        "  mftb 5\n"
        "  rldic 7, 6, 6, 40\n" /* (head mod 2^18) * 64 */
        "  add 7, 7, 4\n"
        "  addi 7, 7, 4096\n" /* the record */
        "  std 5, 8(7)\n"
        "  std 13, 16(7)\n"
        "  li 8, 1\n  sldi 8, 8, 32\n" /* probe 0, 1 value */
        "  std 8, 24(7)\n"
        "  std 3, 32(7)\n"
        "  addi 8, 6, 1\n"
        "  lwsync\n"
        "  std 8, 0(7)\n" /* published */
        "  ld 8, 40(1)\n  mtcrf 0x80, 8\n"
        "  ld 4, 0(1)\n  ld 5, 8(1)\n  ld 6, 16(1)\n  ld 7, 24(1)\n  ld 8, 32(1)\n"
        "  addi 1, 1, 336\n"
        "  nop\n"
        "  b .Lprobed_back\n"
        "3:\n"
        "  trap\n" /* never: 2^31 records */
        "  b 1b\n"
        ".size inproc_tramp, .-inproc_tramp\n");
#elif defined(__riscv) && __riscv_xlen == 64
/* tp is the thread pointer; the record's offset is masked and scaled with
 * two shifts (andi takes 12 bits). */
__asm__(".text\n.globl inproc_tramp\n.hidden inproc_tramp\n.type inproc_tramp, @function\n.p2align 2\n"
        "inproc_tramp:\n"
        "  addi sp, sp, -48\n"
        "  sd t0, 0(sp)\n  sd t1, 8(sp)\n  sd t2, 16(sp)\n  sd t3, 24(sp)\n  sd t4, 32(sp)\n"
        "  ld t0, inproc_ring\n"
        "1:\n"
        "  ld t1, 64(t0)\n" /* tail, then head */
        "  fence r, rw\n"
        "  lr.d t2, (t0)\n"
        "  sub t3, t2, t1\n"
        "  srli t3, t3, 31\n"
        "  bnez t3, 3f\n"
        "  addi t3, t2, 1\n"
        "  sc.d t1, t3, (t0)\n"
        "  bnez t1, 1b\n"
        "  rdtime t1\n"
        "  slli t3, t2, 46\n"
        "  srli t3, t3, 40\n" /* (head mod 2^18) * 64 */
        "  add t3, t3, t0\n"
        "  lui t4, 1\n"
        "  add t3, t3, t4\n" /* the record */
        "  sd t1, 8(t3)\n"
        "  sd tp, 16(t3)\n"
        "  li t4, 1\n  slli t4, t4, 32\n" /* probe 0, 1 value */
        "  sd t4, 24(t3)\n"
        "  sd a0, 32(t3)\n"
        "  addi t2, t2, 1\n"
        "  fence rw, w\n"
        "  sd t2, 0(t3)\n" /* published */
        "  ld t0, 0(sp)\n  ld t1, 8(sp)\n  ld t2, 16(sp)\n  ld t3, 24(sp)\n  ld t4, 32(sp)\n"
        "  addi sp, sp, 48\n"
        "  .option push\n  .option norvc\n  nop\n  .option pop\n"
        "  j .Lprobed_back\n"
        "3:\n"
        "  ebreak\n" /* never: 2^31 records */
        "  j 1b\n"
        ".size inproc_tramp, .-inproc_tramp\n");
#endif

/* The branch from probed() to TO, as the ISA encodes it (reach checked by
 * the caller); its length in *len. */
static int branch_to(uintptr_t to, unsigned char *bytes, size_t *len) {
  const int64_t off = (int64_t)(to - (uintptr_t)probed);
#if defined(__x86_64__)
  const int32_t rel = (int32_t)(off - 5); /* jmp rel32 */
  bytes[0] = 0xe9;
  memcpy(bytes + 1, &rel, 4);
  *len = 5;
  return off - 5 == rel;
#else
  uint32_t w;
  int ok;
#if defined(__aarch64__)
  w = 0x14000000 | ((uint32_t)(off >> 2) & 0x03ffffff); /* b */
  ok = off >= -(1 << 27) && off < (1 << 27);
#elif defined(__powerpc64__)
  w = 0x48000000 | ((uint32_t)off & 0x03fffffc); /* b */
  ok = off >= -(1 << 25) && off < (1 << 25);
#else
  const uint32_t imm = (uint32_t)off; /* jal x0 */
  w = ((imm >> 20) & 1) << 31 | ((imm >> 1) & 0x3ff) << 21 | ((imm >> 11) & 1) << 20 | ((imm >> 12) & 0xff) << 12 | 0x6f;
  ok = off >= -(1 << 20) && off < (1 << 20);
#endif
  memcpy(bytes, &w, 4);
  *len = 4;
  return ok;
#endif
}

/* Maps the ring and patches probed(); the calls' thread starts after. */
static void inproc_arm(int gettid) {
  uintptr_t to = (uintptr_t)inproc_tramp;
#if defined(__aarch64__)
  if (gettid) to = (uintptr_t)inproc_tramp_gettid;
#elif !defined(__x86_64__)
  if (gettid) {
    fprintf(stderr, "target: inproc-gettid is not built for this ISA\n");
    exit(3);
  }
#endif
  const size_t bytes = 4096 + ((size_t)64 << INPROC_SHIFT);
  int fd = memfd_create("inproc-ring", MFD_CLOEXEC);
  if (fd < 0 || ftruncate(fd, (off_t)bytes) != 0) exit(1);
  inproc_ring = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (inproc_ring == MAP_FAILED) exit(1);
  close(fd);
  ((uint64_t *)inproc_ring)[192 / 8] = gettid ? 2 : 1; /* ring::kThreadIdsOffset: how x86-64 names the thread */
  unsigned char patch[8];
  size_t len;
  if (!branch_to(to, patch, &len)) {
    fprintf(stderr, "target: the trampoline is out of a branch's reach\n");
    exit(1);
  }
  const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), site = (uintptr_t)probed;
  char *first = (char *)(site & ~(page - 1));
  const size_t span = (size_t)(site + len - (uintptr_t)first);
  if (mprotect(first, span, PROT_READ | PROT_WRITE | PROT_EXEC) != 0) exit(1);
  memcpy((void *)site, patch, len);
  if (mprotect(first, span, PROT_READ | PROT_EXEC) != 0) exit(1);
  __builtin___clear_cache((char *)site, (char *)site + len);
}

/* Every call wrote its record: head counted them all, and the last one
 * holds its commit word and the last call's argument. */
static int inproc_check(long n) {
  const uint64_t *ring = inproc_ring;
  const uint64_t *last = (const uint64_t *)((const char *)ring + 4096 + 64 * ((uint64_t)(n - 1) & ((1u << INPROC_SHIFT) - 1)));
  if (ring[0] == (uint64_t)n && last[0] == (uint64_t)n && last[4] == (uint64_t)(n - 1) && last[2] != 0) return 1;
  fprintf(stderr, "target: the ring holds %llu records, the last commit %llu value %llu thread %#llx\n",
          (unsigned long long)ring[0], (unsigned long long)last[0], (unsigned long long)last[4],
          (unsigned long long)last[2]);
  return 0;
}

static long calls;
static volatile long sink; /* the calls' results go here: none can be dropped */
static long waits = -1;     /* the calling thread's voluntary context switches */

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
  /* How often the calling thread waited: a stop (a trap, or a jump hit
   * that found the ring full) counts, being preempted does not. */
  struct rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) == 0) waits = ru.ru_nvcsw;
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
  const char *how = argc > 2 ? argv[2] : "";
  const int inproc = strcmp(how, "inproc") == 0, gettid = strcmp(how, "inproc-gettid") == 0;
  if (calls <= 0 || argc > 3 || (argc > 2 && !inproc && !gettid)) {
    fprintf(stderr, "usage: target CALLS [inproc|inproc-gettid] (CALLS > 0)\n");
    return 2;
  }
  if (inproc || gettid) inproc_arm(gettid);
  mark("start");
  double start = clock_s(CLOCK_MONOTONIC), cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
  pthread_t t;
  if (pthread_create(&t, NULL, loop, NULL) != 0) return 1;
  pthread_join(t, NULL);
  double wall = clock_s(CLOCK_MONOTONIC) - start, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  mark("end");
  if ((inproc || gettid) && !inproc_check(calls)) return 1;
  printf("calls %ld threads 1 ns_per_call %.1f wall_s %.3f cpu_ns_per_call %.1f waits %ld\n", calls,
         wall * 1e9 / (double)calls, wall, cpu * 1e9 / (double)calls, waits);
  return 0;
}
