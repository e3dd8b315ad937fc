/* A program with its own compiled-in traps and a SIGTRAP handler, for the
 * gdb-coexistence tests: uptrace must refuse to probe these traps and pass
 * every one of them to the handler unchanged, while it traces other sites.
 *
 *   trap_cc        int3 ; ret          (cc)
 *   trap_cd03      int 3 ; ret         (cd 03)
 *   trap_f1        int1 ; ret          (f1, icebp)
 *   trap_then_add  int3 ; lea 1(%rdi),%rax ; ret    (a probe-able site right after a trap)
 *   idle1..idle6   never called: the tests write traps over them in memory,
 *                  as a debugger that died would leave them. idle1..3 start
 *                  with a 1-byte instruction, idle4..6 with a 3-byte one.
 *
 * Prints "ready PID", then answers commands on stdin:
 *   round N   N times: each trap, trap_then_add(i), work(i)
 *             -> "round cc=.. cd03=.. f1=.. then=.. bad=.. codes=..,..,..,.. sum=.."
 *             where the counts are the handler's, by the pc it saw, and codes
 *             are the si_code values it saw (the last of each kind)
 *   quit      exit(0) */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#define NAKED __attribute__((naked, noinline, used))

NAKED void trap_cc(void) { __asm__ volatile("int3\n\tret\n"); }
NAKED void trap_cd03(void) { __asm__ volatile(".byte 0xcd, 0x03\n\tret\n"); }
NAKED void trap_f1(void) { __asm__ volatile(".byte 0xf1\n\tret\n"); }
NAKED long trap_then_add(long x __attribute__((unused))) { __asm__ volatile("int3\n\tlea 1(%rdi), %rax\n\tret\n"); }

/* push %rbx (53) first: a 1-byte instruction. */
#define IDLE_SHORT(name)                                                                        \
  NAKED long name(long x __attribute__((unused))) {                                             \
    __asm__ volatile("push %rbx\n\tmov %rdi, %rax\n\tadd $5, %rax\n\tpop %rbx\n\tret\n"); \
  }
/* mov %rdi,%rax (48 89 f8) first: a 3-byte instruction. */
#define IDLE_LONG(name)                                                                \
  NAKED long name(long x __attribute__((unused))) {                                    \
    __asm__ volatile("mov %rdi, %rax\n\tadd $5, %rax\n\tnop\n\tret\n"); \
  }
IDLE_SHORT(idle1)
IDLE_SHORT(idle2)
IDLE_SHORT(idle3)
IDLE_LONG(idle4)
IDLE_LONG(idle5)
IDLE_LONG(idle6)

volatile long sink;
__attribute__((noinline)) long work(long x) {
  sink += x;
  return sink * 3;
}

enum { CC, CD03, F1, THEN, KINDS };
static volatile long counts[KINDS], bad;
static volatile int codes[KINDS];

static void on_trap(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  unsigned long pc = (unsigned long)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
  int kind = -1;
  if (pc == (unsigned long)trap_cc + 1) kind = CC;
  if (pc == (unsigned long)trap_cd03 + 2) kind = CD03;
  if (pc == (unsigned long)trap_f1 + 1) kind = F1;
  if (pc == (unsigned long)trap_then_add + 1) kind = THEN;
  if (kind < 0) {
    bad = bad + 1;
    return;
  }
  counts[kind] = counts[kind] + 1;
  codes[kind] = si->si_code;
}

/* Keeps the idle functions referenced. */
long (*volatile idle_table[])(long) = {idle1, idle2, idle3, idle4, idle5, idle6};

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, NULL);
  printf("ready %d\n", getpid());
  fflush(stdout);

  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    long n = 0;
    if (sscanf(line, "round %ld", &n) == 1) {
      for (int k = 0; k < KINDS; k++) counts[k] = codes[k] = 0;
      bad = 0;
      sink = 0;
      long sum = 0;
      for (long i = 0; i < n; i++) {
        trap_cc();
        trap_cd03();
        trap_f1();
        sum += trap_then_add(i);
        sum += work(i);
      }
      printf("round cc=%ld cd03=%ld f1=%ld then=%ld bad=%ld codes=%d,%d,%d,%d sum=%ld\n", counts[CC], counts[CD03],
             counts[F1], counts[THEN], bad, codes[CC], codes[CD03], codes[F1], codes[THEN], sum);
    } else if (strcmp(line, "quit\n") == 0) {
      exit(0);
    } else {
      printf("bad command %s", line);
    }
    fflush(stdout);
  }
  return 0;
}
