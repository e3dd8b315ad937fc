/* Drives ppc_insns.S: each round calls every function and checks its
 * result against what plain C computes, so a wrongly executed instruction
 * (a branch emulated to the wrong place, a pc read in the slot) shows up in
 * the output, which must be the same with and without uptrace.
 * Usage: target-ppc_driver ROUNDS [SLEEP_MS]: prints "ready", runs ROUNDS
 * rounds (SLEEP_MS apart), prints one line per check that failed and
 * "done ROUNDS traps=N": two traps a round, own_trap's and checked's
 * conditional one, which fires for a negative argument; the handler checks
 * that each SIGTRAP is the kernel's report of a trap instruction
 * (TRAP_BRKPT, si_addr at the trap), as without uptrace. */
#define _GNU_SOURCE /* TRAP_BRKPT */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

long entries(long x);
unsigned long pcread(void);
unsigned long nia(void);
long branchy(long n);
long leaf(long x);
int atomic_add(int *p, int v);
long checked(long x);
void own_trap(void);

static volatile sig_atomic_t traps, bad_traps;

static void on_trap(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  ucontext_t *uc = ctx;
  unsigned long nip = uc->uc_mcontext.gp_regs[32]; /* PT_NIP: at the trap */
  if (info->si_code != TRAP_BRKPT || (unsigned long)info->si_addr != nip) bad_traps++;
  uc->uc_mcontext.gp_regs[32] = nip + 4; /* past the trap */
  traps++;
}

/* Ten arguments: ELFv2 passes the first eight in r3..r10, the ninth and
   tenth only in the caller's parameter save area (32 + 8 * 8 bytes above
   the stack pointer at the entry). Called through a pointer, so CTR and
   r12 hold its global entry then. */
__attribute__((noinline, noipa)) long many(long a, long b, long c, long d, long e, long f, long g, long h, long i,
                                           long j) {
  return a + b + c + d + e + f + g + h + i + j;
}

static long model_branchy(long n) {
  long sum = 0;
  for (long i = n; i > 0; --i) sum += i;
  if (n == 0) sum = 100;
  return sum + 2 * n + 2;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 10;
  int sleep_ms = argc > 2 ? atoi(argv[2]) : 0;
  struct sigaction sa = {0};
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, NULL);
  long (*volatile through_pointer)(long) = entries;
  long (*volatile many_pointer)(long, long, long, long, long, long, long, long, long, long) = many;
  int counter = 0;
  printf("ready\n");
  fflush(stdout);
  for (int r = 0; r < rounds; ++r) {
    if (entries(r) != r + 1) printf("round %d: entries direct %ld\n", r, entries(r));
    if (through_pointer(r) != r + 1) printf("round %d: entries through a pointer\n", r);
    if (pcread() != (unsigned long)pcread + 8) printf("round %d: pcread %#lx, function at %#lx\n", r, pcread(), (unsigned long)pcread);
    if (nia() != (unsigned long)nia + 4) printf("round %d: nia %#lx, function at %#lx\n", r, nia(), (unsigned long)nia);
    for (long n = 0; n < 4; ++n)
      if (branchy(n) != model_branchy(n)) printf("round %d: branchy(%ld) = %ld, not %ld\n", r, n, branchy(n), model_branchy(n));
    if (atomic_add(&counter, 2) != 2 * (r + 1)) printf("round %d: atomic_add %d\n", r, counter);
    if (checked(r) != r) printf("round %d: checked\n", r);
    if (checked(-r - 1) != -r - 1) printf("round %d: checked after its trap\n", r);
    own_trap();
    if (many_pointer(1, -2, 3, 4, 5, 6, 7, 8, 9009, -10010) != -969) printf("round %d: many\n", r);
    if (sleep_ms) usleep(sleep_ms * 1000);
  }
  if (bad_traps) printf("%d SIGTRAPs were not a trap instruction's\n", (int)bad_traps);
  printf("done %d traps=%d\n", rounds, (int)traps);
  return 0;
}
