/* aarch64 branches at probe sites, which a jump probe relocates into its
 * trampoline (arch/aarch64/jump.cpp): each function below has one at the
 * site the tests name (the entry, or +4/+8 where a call must first keep
 * x30). The driver calls each N times (argv[1], default 1000) with
 * i = 0..N-1, checks every result against a C model, and prints
 * "NAME SUM" per function, then "mismatches M" (status 1 if any): so a probe
 * on each is hit exactly N times, and a wrong relocation shows. */
#include <stdio.h>
#include <stdlib.h>

long ab_b(long);     /* b ab_helper at the entry: rax = x + 3 */
long ab_bl(long);    /* bl ab_helper at +4 */
long ab_cbz(long);   /* cbz x0 at the entry */
long ab_tbnz(long);  /* tbnz w0, #1 at the entry */
long ab_ret(long);   /* ret at the entry */
long ab_blr(long);   /* blr x1 at +8 */

__asm__(".text\n"
        ".p2align 2\n.type ab_helper, %function\nab_helper:\n"
        "  add x0, x0, #3\n  ret\n.size ab_helper, .-ab_helper\n"
        ".globl ab_b\n.p2align 2\n.type ab_b, %function\nab_b:\n"
        "  b ab_helper\n.size ab_b, .-ab_b\n"
        ".globl ab_bl\n.p2align 2\n.type ab_bl, %function\nab_bl:\n"
        "  mov x9, x30\n  bl ab_helper\n  mov x30, x9\n  add x0, x0, x0\n  ret\n.size ab_bl, .-ab_bl\n"
        ".globl ab_cbz\n.p2align 2\n.type ab_cbz, %function\nab_cbz:\n"
        "  cbz x0, 1f\n  mov x0, #7\n  ret\n1:\n  mov x0, #9\n  ret\n.size ab_cbz, .-ab_cbz\n"
        ".globl ab_tbnz\n.p2align 2\n.type ab_tbnz, %function\nab_tbnz:\n"
        "  tbnz w0, #1, 1f\n  mov x0, #5\n  ret\n1:\n  mov x0, #6\n  ret\n.size ab_tbnz, .-ab_tbnz\n"
        ".globl ab_ret\n.p2align 2\n.type ab_ret, %function\nab_ret:\n"
        "  ret\n.size ab_ret, .-ab_ret\n"
        ".globl ab_blr\n.p2align 2\n.type ab_blr, %function\nab_blr:\n"
        "  mov x9, x30\n  adr x1, ab_helper\n  blr x1\n  mov x30, x9\n  sub x0, x0, #1\n  ret\n"
        ".size ab_blr, .-ab_blr\n");

static long model_b(long x) { return x + 3; }
static long model_bl(long x) { return 2 * (x + 3); }
static long model_cbz(long x) { return x ? 7 : 9; }
static long model_tbnz(long x) { return x & 2 ? 6 : 5; }
static long model_ret(long x) { return x; }
static long model_blr(long x) { return x + 2; }

int main(int argc, char **argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000;
  static const struct {
    const char *name;
    long (*real)(long);
    long (*model)(long);
  } fns[] = {{"ab_b", ab_b, model_b},       {"ab_bl", ab_bl, model_bl},    {"ab_cbz", ab_cbz, model_cbz},
             {"ab_tbnz", ab_tbnz, model_tbnz}, {"ab_ret", ab_ret, model_ret}, {"ab_blr", ab_blr, model_blr}};
  long mismatches = 0;
  for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
    long sum = 0;
    for (long i = 0; i < n; i++) {
      const long got = fns[f].real(i);
      if (got != fns[f].model(i)) mismatches++;
      sum += got;
    }
    printf("%s %ld\n", fns[f].name, sum);
  }
  printf("mismatches %ld\n", mismatches);
  return mismatches ? 1 : 0;
}
