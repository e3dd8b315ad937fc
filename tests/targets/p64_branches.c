/* ppc64le branches at probe sites, which a jump probe relocates into its
 * trampoline (arch/ppc64le/jump.cpp): each function below has one at the
 * site the tests name (the entry, or further in where a call must first
 * keep LR). The driver calls each N times (argv[1], default 1000) with
 * i = 0..N-1, checks every result against a C model, and prints
 * "NAME SUM" per function, then "mismatches M" (status 1 if any): so a probe
 * on each is hit exactly N times (pb_bdnz's loop branch (i & 7) + 1 times),
 * and a wrong relocation shows. None of them uses the TOC. */
#include <stdio.h>
#include <stdlib.h>

typedef long (*helper_fn)(long);
long pb_b(long, helper_fn);      /* b pb_helper at the entry: r3 = x + 3 */
long pb_bl(long, helper_fn);     /* bl pb_helper at +4 */
long pb_beq(long, helper_fn);    /* beq at +4 */
long pb_bdnz(long, helper_fn);   /* bdnz at +20, the loop's branch back */
long pb_bcl(long, helper_fn);    /* bcl 20,31,$+4 at +4: LR must be its next instruction */
long pb_blr(long, helper_fn);    /* blr at the entry */
long pb_beqlr(long, helper_fn);  /* beqlr at +4 */
long pb_bctr(long, helper_fn);   /* bctr at +4 (to the helper) */
long pb_bctrl(long, helper_fn);  /* bctrl at +8 */

__asm__(".text\n"
        ".p2align 2\n.globl pb_helper\n.type pb_helper, @function\npb_helper:\n"
        "  addi 3, 3, 3\n  blr\n.size pb_helper, .-pb_helper\n"
        ".globl pb_b\n.p2align 2\n.type pb_b, @function\npb_b:\n"
        "  b pb_helper\n.size pb_b, .-pb_b\n"
        ".globl pb_bl\n.p2align 2\n.type pb_bl, @function\npb_bl:\n"
        "  mflr 10\n  bl pb_helper\n  mtlr 10\n  add 3, 3, 3\n  blr\n.size pb_bl, .-pb_bl\n"
        ".globl pb_beq\n.p2align 2\n.type pb_beq, @function\npb_beq:\n"
        "  cmpdi 3, 0\n  beq 1f\n  li 3, 7\n  blr\n1:\n  li 3, 9\n  blr\n.size pb_beq, .-pb_beq\n"
        ".globl pb_bdnz\n.p2align 2\n.type pb_bdnz, @function\npb_bdnz:\n"
        "  andi. 4, 3, 7\n  addi 4, 4, 1\n  mtctr 4\n  li 3, 0\n1:\n  addi 3, 3, 2\n  bdnz 1b\n  blr\n"
        ".size pb_bdnz, .-pb_bdnz\n"
        ".globl pb_bcl\n.p2align 2\n.type pb_bcl, @function\npb_bcl:\n"
        "  mflr 10\n  bcl 20, 31, 1f\n1:\n  mflr 4\n  mtlr 10\n  ld 5, 2f-1b(4)\n  add 3, 3, 5\n  blr\n"
        "  .p2align 3\n2:\n  .quad 11\n.size pb_bcl, .-pb_bcl\n"
        ".globl pb_blr\n.p2align 2\n.type pb_blr, @function\npb_blr:\n"
        "  blr\n.size pb_blr, .-pb_blr\n"
        ".globl pb_beqlr\n.p2align 2\n.type pb_beqlr, @function\npb_beqlr:\n"
        "  andi. 4, 3, 1\n  beqlr\n  addi 3, 3, 100\n  blr\n.size pb_beqlr, .-pb_beqlr\n"
        ".globl pb_bctr\n.p2align 2\n.type pb_bctr, @function\npb_bctr:\n"
        "  mtctr 4\n  bctr\n.size pb_bctr, .-pb_bctr\n"
        ".globl pb_bctrl\n.p2align 2\n.type pb_bctrl, @function\npb_bctrl:\n"
        "  mflr 10\n  mtctr 4\n  bctrl\n  mtlr 10\n  addi 3, 3, -1\n  blr\n.size pb_bctrl, .-pb_bctrl\n");

long pb_helper(long);

static long model_b(long x) { return x + 3; }
static long model_bl(long x) { return 2 * (x + 3); }
static long model_beq(long x) { return x ? 7 : 9; }
static long model_bdnz(long x) { return 2 * ((x & 7) + 1); }
static long model_bcl(long x) { return x + 11; }
static long model_blr(long x) { return x; }
static long model_beqlr(long x) { return x & 1 ? x + 100 : x; }
static long model_bctr(long x) { return x + 3; }
static long model_bctrl(long x) { return x + 2; }

int main(int argc, char **argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000;
  static const struct {
    const char *name;
    long (*real)(long, helper_fn);
    long (*model)(long);
  } fns[] = {{"pb_b", pb_b, model_b},          {"pb_bl", pb_bl, model_bl},       {"pb_beq", pb_beq, model_beq},
             {"pb_bdnz", pb_bdnz, model_bdnz}, {"pb_bcl", pb_bcl, model_bcl},    {"pb_blr", pb_blr, model_blr},
             {"pb_beqlr", pb_beqlr, model_beqlr}, {"pb_bctr", pb_bctr, model_bctr}, {"pb_bctrl", pb_bctrl, model_bctrl}};
  long mismatches = 0;
  for (size_t f = 0; f < sizeof fns / sizeof fns[0]; f++) {
    long sum = 0;
    for (long i = 0; i < n; i++) {
      const long got = fns[f].real(i, pb_helper);
      if (got != fns[f].model(i)) mismatches++;
      sum += got;
    }
    printf("%s %ld\n", fns[f].name, sum);
  }
  printf("mismatches %ld\n", mismatches);
  return mismatches ? 1 : 0;
}
