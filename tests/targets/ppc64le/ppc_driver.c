/* Drives ppc_insns.S: each round calls every function and checks its
 * result against what plain C computes, so a wrongly executed instruction
 * (a branch emulated to the wrong place, a pc read in the slot) shows up in
 * the output, which must be the same with and without uptrace.
 * Usage: target-ppc_driver ROUNDS [SLEEP_MS]: prints "ready", runs ROUNDS
 * rounds (SLEEP_MS apart), prints one line per check that failed and
 * "done ROUNDS traps=N". */
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

static volatile sig_atomic_t traps;

static void on_trap(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)info;
  ucontext_t *uc = ctx;
  uc->uc_mcontext.gp_regs[32] += 4; /* PT_NIP: past the trap */
  traps++;
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
    own_trap();
    if (sleep_ms) usleep(sleep_ms * 1000);
  }
  printf("done %d traps=%d\n", rounds, (int)traps);
  return 0;
}
