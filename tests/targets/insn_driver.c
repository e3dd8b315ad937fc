/* Drives the functions of insn_classes.S (linked in by extra.cmake).
 *
 *   target-insn_driver N      calls every function N times with varying
 *                             inputs, checks each result against a C model,
 *                             prints one "NAME CHECKSUM" line per function,
 *                             then "mismatches 0"; exits 1 on any mismatch.
 *   target-insn_driver loop   prints "ready PID", then does the same in
 *                             rounds forever; SIGUSR1 makes it print
 *                             "ok mismatches M" (M is 0 unless broken).
 *
 * It also prints "cpu avx=0|1 avx512f=0|1" first: the AVX functions are
 * called only when the CPU has the extension (else their count is 0).
 * Every function is called exactly once per round; loop_fn's loop
 * instruction runs (i % 5) + 1 times in round i, loop32_fn's (i % 4) + 1
 * times; call_helper runs from call_rel, call_reg, call_mem and bnd_call_fn.
 * loop32_fn has no model: its checksum is compared with the untraced run. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long call_helper(long);
long rip_load(long);
long rip_store(long);
long rip_store_imm(void);
long rip_lea(long);
double sse_movsd(double);
double sse_addsd(double);
double avx_vaddsd(double);
double avx512_vmovsd(double);
long call_rel(long);
int jcc_rel8(long);
int jcc_rel32(long);
long jmp_rel8(long);
long jmp_rel32(long);
long push_pop(long);
long push_imm(long);
long pushf_fn(void);
long ret_fn(long);
int lock_xadd(int);
int lock_add(int *, int);
int lock_cmpxchg(int *, int, int);
long call_reg(long, long (*)(long));
long call_mem(long);
long jmp_mem(long);
long jmp_indexed(long);
int loop_fn(long);
long cmov_fn(long, long);
long xchg_fn(long, long *);
char *movsb_fn(char *, const char *);
long nop_fn(long);
long nop1_fn(long);
long endbr_fn(long);
long ret_imm_caller(long);
long jrcxz_fn(long);
long jecxz_fn(long);
long loop32_fn(long);
long push_rsp_fn(void);
long push_r12_fn(long);
long push_mem_fn(long);
long cmp_rip_imm_fn(void);
long repz_ret_fn(long);
long bnd_call_fn(long);
long lea32_fn(void);
long lea16_fn(void);
long xchg_r8_fn(long);
long getpc_fn(void);
long call_ra_fn(void);

enum {
  F_RIP_LOAD, F_RIP_STORE, F_RIP_STORE_IMM, F_RIP_LEA, F_SSE_MOVSD, F_SSE_ADDSD, F_AVX, F_AVX512,
  F_CALL_REL, F_JCC8, F_JCC32, F_JMP8, F_JMP32, F_PUSH_POP, F_PUSH_IMM, F_PUSHF, F_RET, F_XADD,
  F_LOCK_ADD, F_CMPXCHG, F_CALL_REG, F_CALL_MEM, F_JMP_MEM, F_JMP_INDEXED, F_LOOP, F_CMOV, F_XCHG,
  F_MOVSB, F_NOP, F_NOP1, F_ENDBR, F_RET_IMM, F_JRCXZ, F_JECXZ, F_LOOP32, F_PUSH_RSP, F_PUSH_R12,
  F_PUSH_MEM, F_CMP_RIP_IMM, F_REPZ_RET, F_BND_CALL, F_LEA32, F_LEA16, F_XCHG_R8, F_GETPC, F_CALL_RA, F_COUNT
};
static const char *const names[F_COUNT] = {
    "rip_load", "rip_store", "rip_store_imm", "rip_lea", "sse_movsd", "sse_addsd", "avx_vaddsd",
    "avx512_vmovsd", "call_rel", "jcc_rel8", "jcc_rel32", "jmp_rel8", "jmp_rel32", "push_pop",
    "push_imm", "pushf_fn", "ret_fn", "lock_xadd", "lock_add", "lock_cmpxchg", "call_reg", "call_mem",
    "jmp_mem", "jmp_indexed", "loop_fn", "cmov_fn", "xchg_fn", "movsb_fn", "nop_fn", "nop1_fn",
    "endbr_fn", "ret_imm_caller", "jrcxz_fn", "jecxz_fn", "loop32_fn", "push_rsp_fn", "push_r12_fn",
    "push_mem_fn", "cmp_rip_imm_fn", "repz_ret_fn", "bnd_call_fn", "lea32_fn", "lea16_fn", "xchg_r8_fn", "getpc_fn", "call_ra_fn"};

static long sums[F_COUNT];
static long mismatches;
static int have_avx, have_avx512;

/* The C model's state, next to the assembly's. */
static long model_store_imm;
static int model_xadd;
static int add_cell, model_add_cell;
static int cas_cell, model_cas_cell;
static long xchg_cell, model_xchg_cell;

static void check(int f, long i, long got, long want) {
  sums[f] += got;
  if (got != want) {
    mismatches++;
    printf("MISMATCH %s round %ld: got %ld, want %ld\n", names[f], i, got, want);
    fflush(stdout);
  }
}

/* No model: the checksum alone, compared with the untraced run. */
static void record(int f, long got) { sums[f] += got; }

static long dbl(double d) { return (long)(d * 4); } /* every value here is a multiple of 0.25 */

static void round_once(long i) {
  long x = i * 7 - 300; /* negative and positive inputs */

  check(F_RIP_LOAD, i, rip_load(x), x + 1000003);
  check(F_RIP_STORE, i, rip_store(x), x + 1);
  model_store_imm += 7;
  check(F_RIP_STORE_IMM, i, rip_store_imm(), model_store_imm);
  static const long table[4] = {11, 22, 33, 44};
  check(F_RIP_LEA, i, rip_lea(i), table[i & 3]);
  check(F_SSE_MOVSD, i, dbl(sse_movsd((double)x)), dbl((double)x + 0.5));
  check(F_SSE_ADDSD, i, dbl(sse_addsd((double)x)), dbl((double)x + 1.25));
  if (have_avx) check(F_AVX, i, dbl(avx_vaddsd((double)x)), dbl((double)x + 2.75));
  if (have_avx512) check(F_AVX512, i, dbl(avx512_vmovsd((double)x)), dbl((double)x + 4.5));
  check(F_CALL_REL, i, call_rel(x), (x + 1) * 3);
  long m7 = i % 7;
  check(F_JCC8, i, jcc_rel8(m7), m7 < 3 ? m7 + 200 : m7 + 100);
  check(F_JCC32, i, jcc_rel32(m7), (m7 & 1) ? m7 + 400 : m7 + 300);
  check(F_JMP8, i, jmp_rel8(x), x + 5);
  check(F_JMP32, i, jmp_rel32(x), x + 9);
  check(F_PUSH_POP, i, push_pop(x), 2 * x);
  check(F_PUSH_IMM, i, push_imm(x), x + 42);
  check(F_PUSHF, i, pushf_fn(), 0);
  check(F_RET, i, ret_fn(x), x + 11);
  int delta = (int)(i % 11) - 5;
  check(F_XADD, i, lock_xadd(delta), model_xadd);
  model_xadd += delta;
  model_add_cell += delta;
  check(F_LOCK_ADD, i, lock_add(&add_cell, delta), model_add_cell);
  int expected = (i & 1) ? model_cas_cell : model_cas_cell + 1; /* succeeds on odd rounds */
  int old = model_cas_cell;
  if (model_cas_cell == expected) model_cas_cell = (int)i;
  check(F_CMPXCHG, i, lock_cmpxchg(&cas_cell, expected, (int)i), old);
  check(F_CALL_REG, i, call_reg(x, call_helper), x + 1001);
  check(F_CALL_MEM, i, call_mem(x), x + 2001);
  check(F_JMP_MEM, i, jmp_mem(x), x + 13);
  check(F_JMP_INDEXED, i, jmp_indexed(i), i + 1000 * ((i & 3) + 1));
  long n = i % 5 + 1;
  check(F_LOOP, i, loop_fn(n), n * (n + 1) / 2);
  long a = i % 13 - 6, b = 3 - i % 7;
  check(F_CMOV, i, cmov_fn(a, b), a < b ? b : a);
  check(F_XCHG, i, xchg_fn(x, &xchg_cell), model_xchg_cell);
  model_xchg_cell = x;
  char src[2] = {(char)(i & 0x7f), (char)((i >> 7) & 0x7f)}, dst[4] = {1, 2, 3, 4};
  char *end = movsb_fn(dst, src);
  check(F_MOVSB, i, (end - dst) * 10000 + dst[0] * 100 + dst[1] + dst[2] * 1000000, 2 * 10000 + src[0] * 100 + src[1] + 3 * 1000000);
  check(F_NOP, i, nop_fn(x), x + 17);
  check(F_NOP1, i, nop1_fn(x), x + 18);
  check(F_ENDBR, i, endbr_fn(x), x + 19);
  check(F_RET_IMM, i, ret_imm_caller(x), 2 * x + 1);
  long m3 = i % 3;
  check(F_JRCXZ, i, jrcxz_fn(m3), m3 == 0 ? 77 : m3 + 50);
  long e = m3 == 0 ? (1L << 32) : (m3 << 32) + i; /* low half 0 only when m3 == 0 */
  check(F_JECXZ, i, jecxz_fn(e), (uint32_t)e == 0 ? 88 : e + 60);
  record(F_LOOP32, loop32_fn((1L << 32) + (i % 4) + 1));
  check(F_PUSH_RSP, i, push_rsp_fn(), 0);
  check(F_PUSH_R12, i, push_r12_fn(x), 3 * x);
  check(F_PUSH_MEM, i, push_mem_fn(x), x + 1000003);
  check(F_CMP_RIP_IMM, i, cmp_rip_imm_fn(), 1);
  check(F_REPZ_RET, i, repz_ret_fn(x), x + 23);
  check(F_BND_CALL, i, bnd_call_fn(x), x + 6);
  check(F_LEA32, i, lea32_fn(), 0);
  check(F_LEA16, i, lea16_fn(), 0xffffffffffffL);
  check(F_XCHG_R8, i, xchg_r8_fn(x), x);
  check(F_GETPC, i, getpc_fn(), 0);
  check(F_CALL_RA, i, call_ra_fn(), 0);
  /* The cells the assembly changed must be what the model says. */
  if (add_cell != model_add_cell || cas_cell != model_cas_cell || xchg_cell != model_xchg_cell) {
    mismatches++;
    printf("MISMATCH memory round %ld\n", i);
    fflush(stdout);
  }
}

static volatile sig_atomic_t report;
static void on_usr1(int sig) {
  (void)sig;
  report = 1;
}

int main(int argc, char **argv) {
  __builtin_cpu_init();
  have_avx = !!__builtin_cpu_supports("avx");
  have_avx512 = !!__builtin_cpu_supports("avx512f");
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("cpu avx=%d avx512f=%d\n", have_avx, have_avx512);
  if (argc > 1 && strcmp(argv[1], "loop") == 0) {
    signal(SIGUSR1, on_usr1);
    printf("ready %d\n", getpid());
    for (long i = 0;; i++) {
      round_once(i);
      if (report) {
        report = 0;
        printf("ok mismatches %ld\n", mismatches);
      }
      if (mismatches) return 1;
    }
  }
  long rounds = argc > 1 ? atol(argv[1]) : 1000;
  for (long i = 0; i < rounds; i++) round_once(i);
  for (int f = 0; f < F_COUNT; f++) printf("%s %ld\n", names[f], sums[f]);
  printf("mismatches %ld\n", mismatches);
  return mismatches ? 1 : 0;
}
