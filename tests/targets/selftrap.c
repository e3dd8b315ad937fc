/* The program's own breakpoints: trap_then_nop() executes int3 and then a
 * nop, int3_long() executes `int $3`. A SIGTRAP handler counts them. Prints
 * "traps=N" (2 per round) after ROUNDS rounds; exits 1 if a count is off. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile long traps;

void trap_then_nop(void);
void int3_long(void);
__asm__(".text\n"
        ".globl trap_then_nop\n.type trap_then_nop,@function\n"
        "trap_then_nop:\n int3\n nop\n ret\n"
        ".size trap_then_nop, .-trap_then_nop\n"
        ".globl int3_long\n.type int3_long,@function\n"
        "int3_long:\n .byte 0xcd, 0x03\n nop\n ret\n"
        ".size int3_long, .-int3_long\n");

static void on_trap(int sig, siginfo_t *info, void *ctx) {
  (void)sig;
  (void)ctx;
  if (info->si_code == 0x80 /* SI_KERNEL: a trap instruction */) traps++;
}

int main(int argc, char **argv) {
  long rounds = argc > 1 ? atol(argv[1]) : 100;
  struct sigaction sa = {0};
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, NULL);
  for (long i = 0; i < rounds; i++) {
    trap_then_nop();
    int3_long();
  }
  printf("traps=%ld\n", traps);
  return traps != 2 * rounds;
}
