/* Drives the functions of riscv64_insns.S (linked in by extra.cmake).
 *
 *   target-riscv64_driver N   calls every function N times with varying
 *                             inputs (both ways of every branch), checks
 *                             each result against a C model, prints one
 *                             "NAME CHECKSUM" line per function, then
 *                             "ebreaks K" (the program's own traps its
 *                             SIGTRAP handler stepped over: 2 per round) and
 *                             "mismatches 0"; exits 1 on any mismatch.
 *   target-riscv64_driver forever
 *                             prints "ready PID", then runs rounds until
 *                             killed (for attach tests); exits 1 at the
 *                             first mismatch.
 *
 * Every function is called exactly once per round; rv_helper also runs from
 * rv_jal, rv_jalr, rv_cjalr and rv_cjr (5 times per round). In round i the
 * inputs are x = i % 3 - 1 (-1, 0, 1) and y = i % 2 - 1 (-1, 0). */
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

long rv_cbeqz(long);
long rv_cbnez(long);
long rv_beq(long, long);
long rv_blt(long, long);
long rv_bgeu(long, long);
long rv_cj(long);
long rv_helper(long);
long rv_jal(long);
long rv_jalr(long, long (*)(long));
long rv_cjalr(long, long (*)(long));
long rv_cjr(long, long (*)(long));
long rv_jr_off(long);
void *rv_auipc(void);
unsigned long rv_pcrel(void);
int rv_lrsc(int *, int);
long rv_lrsc_d(long *, long);
long rv_ebreak(long);
long rv_ebreak4(long);
long rv_plain(long);
long rv_cframe(long);

enum {
  F_CBEQZ, F_CBNEZ, F_BEQ, F_BLT, F_BGEU, F_CJ, F_HELPER, F_JAL, F_JALR, F_CJALR, F_CJR, F_JR_OFF, F_AUIPC,
  F_PCREL, F_LRSC, F_LRSC_D, F_EBREAK, F_EBREAK4, F_PLAIN, F_CFRAME, F_COUNT
};
static const char *const names[F_COUNT] = {
    "rv_cbeqz", "rv_cbnez",  "rv_beq",    "rv_blt",   "rv_bgeu",  "rv_cj",     "rv_helper",
    "rv_jal",   "rv_jalr",   "rv_cjalr",  "rv_cjr",   "rv_jr_off", "rv_auipc", "rv_pcrel",
    "rv_lrsc",  "rv_lrsc_d", "rv_ebreak", "rv_ebreak4", "rv_plain", "rv_cframe"};

static unsigned long sums[F_COUNT];
static long mismatches;
static volatile sig_atomic_t ebreaks;

static void check(int f, long got, long want) {
  sums[f] = sums[f] * 31 + (unsigned long)got;
  if (got != want) {
    fprintf(stderr, "%s: got %ld, want %ld\n", names[f], got, want);
    ++mismatches;
  }
}

/* The program's own breakpoints: step over them, as a program with its own
 * trap handling would. pc is __gregs[0] (REG_PC) on riscv64. */
static void on_trap(int sig, siginfo_t *si, void *ctx) {
  (void)sig;
  (void)si;
  ucontext_t *uc = ctx;
  uint16_t parcel;
  memcpy(&parcel, (const void *)uc->uc_mcontext.__gregs[0], sizeof parcel);
  uc->uc_mcontext.__gregs[0] += (parcel & 3) == 3 ? 4 : 2;
  ++ebreaks;
}

int main(int argc, char **argv) {
  const int forever = argc > 1 && strcmp(argv[1], "forever") == 0;
  long rounds = forever ? LONG_MAX : argc > 1 ? atol(argv[1]) : 1;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_trap;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, NULL);

  if (forever) {
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
  }
  int counter32 = 0;
  long counter64 = 0;
  for (long i = 0; i < rounds; ++i) {
    const long x = i % 3 - 1, y = i % 2 - 1;
    check(F_CBEQZ, rv_cbeqz(x), x == 0 ? 10 : 20);
    check(F_CBNEZ, rv_cbnez(x), x != 0 ? 10 : 20);
    check(F_BEQ, rv_beq(x, y), x == y ? 10 : 20);
    check(F_BLT, rv_blt(x, y), x < y ? 10 : 20);
    check(F_BGEU, rv_bgeu(x, y), (unsigned long)x >= (unsigned long)y ? 10 : 20);
    check(F_CJ, rv_cj(x), x + 4);
    check(F_HELPER, rv_helper(x), 3 * x);
    check(F_JAL, rv_jal(x), 3 * x + 1);
    check(F_JALR, rv_jalr(x, rv_helper), 3 * x + 2);
    check(F_CJALR, rv_cjalr(x, rv_helper), 3 * x + 3);
    check(F_CJR, rv_cjr(x, rv_helper), 3 * x);
    check(F_JR_OFF, rv_jr_off(x), x + 5);
    // The address itself changes from run to run (PIE): its distance from
    // the right one goes into the checksum.
    check(F_AUIPC, (long)((uintptr_t)rv_auipc() - (uintptr_t)rv_auipc), 0);
    check(F_PCREL, (long)rv_pcrel(), 0x1122334455667788L);
    const int old32 = counter32;
    check(F_LRSC, rv_lrsc(&counter32, (int)x + 2), old32);
    check(F_LRSC, counter32, old32 + (int)x + 2);
    const long old64 = counter64;
    check(F_LRSC_D, rv_lrsc_d(&counter64, x + 2), old64 + x + 2);
    check(F_EBREAK, rv_ebreak(x), x + 7);
    check(F_EBREAK4, rv_ebreak4(x), x + 8);
    check(F_PLAIN, rv_plain(x), x + 3);
    check(F_CFRAME, rv_cframe(x), 2 * x + 5);
    if (forever && mismatches) return 1;
  }
  for (int f = 0; f < F_COUNT; ++f) printf("%s %lu\n", names[f], sums[f]);
  printf("ebreaks %ld\n", (long)ebreaks);
  printf("mismatches %ld\n", mismatches);
  return mismatches == 0 && ebreaks == 2 * rounds ? 0 : 1;
}
