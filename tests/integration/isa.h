#pragma once
// Tests that hold on one instruction set only: they name its registers,
// instructions, encodings or offsets, or trace a target written in its
// assembly (tests/targets, built only for that ISA). Add the tag to the
// test's tags: TEST_CASE("...", "[errors]" ONLY_X86_64).
// On another ISA the test is still compiled but hidden ("[.]"), so ctest does
// not discover it, and tests/cross/run lists it as skipped, naming the ISA.
#if defined(__x86_64__)
#define ONLY_X86_64 "[x86_64]"
#else
#define ONLY_X86_64 "[.][x86_64]"
#endif
#if defined(__aarch64__)
#define ONLY_AARCH64 "[aarch64]"
#else
#define ONLY_AARCH64 "[.][aarch64]"
#endif
#if defined(__riscv) && __riscv_xlen == 64
#define ONLY_RISCV64 "[riscv64]"
#else
#define ONLY_RISCV64 "[.][riscv64]"
#endif
#if defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define ONLY_PPC64LE "[ppc64le]"
#else
#define ONLY_PPC64LE "[.][ppc64le]"
#endif
// Tests of jump mode itself (--mode jump forced, its ring): hidden where the
// ISA has no jump mode. Keep in step with IsaExpectations::jump_mode.
// riscv64 jumps a compressed entry with the instruction after it where no
// branch lands between them (arch/riscv64/jump_targets.h), which holds for
// these tests' targets.
#if defined(__x86_64__) || defined(__aarch64__) || (defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)) || \
    (defined(__riscv) && __riscv_xlen == 64)
#define ONLY_JUMP_ISAS ""
#else
#define ONLY_JUMP_ISAS "[.][jump-isas]"
#endif
// Tests of a condition a trampoline evaluates: riscv64's evaluate none yet
// (the probe stops instead).
#if defined(__riscv) && __riscv_xlen == 64
#define ONLY_JUMP_FILTER_ISAS "[.][jump-filter]"
#else
#define ONLY_JUMP_FILTER_ISAS ONLY_JUMP_ISAS
#endif

// What the tests that hold on every ISA expect where the ISA makes a
// difference (registers, the ABI, what the compiler makes of the targets):
// one row per ISA, in one place, so adding an ISA is adding a row, never
// an #else that assumes which ISA it is.
#include <cstdint>

namespace itest {

struct IsaExpectations {
  const char* name;
  // How a stack address of the targets begins in hex (a pointer to a local).
  const char* stack_address_prefix;
  // --explain of dwarf_vars-O2: where handle's `count` and `req` live, and
  // dwarf_vars-O0's `count` after the prologue.
  const char* count_location;
  const char* req_location;
  const char* o0_count_location;
  // dwarf_vars-O2: scale() inlined into its callers starts this far into them.
  const char* inlined_scale_offset;
  // dwarf_vars-O2: the out-of-line scale() computes `scaled` inside one
  // instruction (aarch64's madd), so for k == 2 it is optimized out.
  bool scaled_fused;
  // dwarf_vars-O2: the variables in scope at handle's entry, as the hint lists them.
  const char* handle_scope;
  // An ELF machine of another ISA, for --explain -x of a foreign file.
  uint16_t foreign_machine;
  // %return: how the return address is named, and, where it arrives in a
  // register, how --explain of returns' depth begins to say where the
  // prologue saves it, and the CFI rule that says so (nullptr: nothing
  // is said, x86-64's is in memory already).
  const char* return_address;
  const char* return_address_save;
  const char* return_address_save_cfi;
  // returns-O0-nodebug: narrow_int's and narrow_uchar's raw return register
  // as s64 (x86-64 leaves the whole argument there; aarch64 clears all
  // above the byte; ppc64le's ELFv2 has the callee extend its int or char
  // return to 64 bits; riscv64's psABI keeps 32-bit values sign-extended,
  // so its code ends with sext.w and the int's register holds -1).
  const char* narrow_int_raw_return;
  const char* narrow_uchar_raw_return;
  // $retval's register, as --explain names it.
  const char* return_register;
  // Whether --mode boost exists on this ISA (where not, it is refused).
  bool boost_mode;
  // Whether --mode jump exists on this ISA (where not, it is refused).
  bool jump_mode;
  // Whether GCC -O2 splits the targets' unlikely paths into FUNC.cold parts
  // (cold_cxx-O2, coldsplit-O2); only x86-64's does (GCC 12 for aarch64
  // and ppc64le, GCC 14 for riscv64 keep them whole).
  bool cold_parts;
};

inline const IsaExpectations& isa_expectations() {
#if defined(__x86_64__)
  static constexpr IsaExpectations e{
      "x86_64",
      "0x7ff",
      "DW_OP_reg4 (%rsi)",
      "DW_OP_reg5 (%rdi)",
      "DW_OP_fbreg -44; frame base DW_OP_call_frame_cfa; CFA DW_OP_bregx 6 (%rbp) +16",
      "+0x0 ",
      false,
      "req, count, tag, limit, total",
      183,  // EM_AARCH64
      "[rsp]",
      nullptr,
      nullptr,
      "25769803775",
      "2147483592",
      "%rax",
      true,  // boost
      true,
      true,
  };
#elif defined(__aarch64__)
  static constexpr IsaExpectations e{
      "aarch64",
      "0xfff",
      "DW_OP_reg1 (%x1)",
      "DW_OP_reg0 (%x0)",
      "DW_OP_fbreg -28; frame base DW_OP_call_frame_cfa; CFA DW_OP_bregx 31 (%sp) +48",
      "+0x4 ",  // after the caller's first instruction
      true,
      // GCC for aarch64 schedules the loop's loads first: the block holding
      // `i` starts at the entry, so `i` is in scope there (and listed first).
      "i, req, count, tag, limit, total",
      62,  // EM_X86_64
      "x30",
      "[entry sp-0x",  // stp x29, x30, [sp, #-N]!
      "(CFI: CFA-0x",
      "25769803775",
      "200",
      "%x0",
      true,  // boost
      true,  // jump
      false,  // GCC 12 for aarch64 keeps cold_cxx-O2 and coldsplit-O2 whole
  };
#elif defined(__riscv) && __riscv_xlen == 64
  static constexpr IsaExpectations e{
      "riscv64",
      // Sv39, which the cross stage's VM runs as most riscv64 boards do:
      // user space ends at 2^38 (0x3f...). Under Sv48/Sv57 the kernel keeps
      // mappings below 2^47 (0x7ff...) unless asked for more.
      "0x3f",
      "DW_OP_reg11 (%a1)",
      "DW_OP_reg10 (%a0)",
      "DW_OP_fbreg -44; frame base DW_OP_call_frame_cfa; CFA DW_OP_bregx 8 (%s0) +0",
      "+0x0 ",
      false,
      "req, count, tag, limit, total",
      62,  // EM_X86_64
      "ra",
      "[entry sp-0x",  // addi sp, sp, -N; sd ra, M(sp), as aarch64's stp
      "(CFI: CFA-0x",
      "-1",
      "200",  // -O0: zext.b a5, a5; mv a0, a5
      "%a0",
      true,   // boost (a signal in a slot: its stepped form, not a single step)
      false,  // these tests force --mode jump with conditions, which riscv64 trampolines do not evaluate yet
      false,
  };
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  // As seen in the qemu-system-ppc64 VM (tests/cross/run ppc64le).
  static constexpr IsaExpectations e{
      "ppc64le",
      "0x7ff",
      "DW_OP_reg4 (%r4)",
      "DW_OP_reg3 (%r3)",
      // -O0 addresses its frame through r31 (mr r31,r1 after stdu).
      "DW_OP_fbreg -40; frame base DW_OP_call_frame_cfa; CFA DW_OP_bregx 31 (%r31) +96",
      // The inlined copies begin at their caller's local entry.
      "+0x8 ",
      false,
      "req, count, tag, limit, total",
      62,  // EM_X86_64
      "lr",
      "[entry sp+0x10]",  // mflr r0; std r0,16(r1): the caller's LR save doubleword
      "(CFI: CFA+0x10)",
      "-1",   // extsw r3
      "200",  // rlwinm/clrldi: zero-extended
      "%r3",
      true,  // boost
      true,  // jump
      false,
  };
#else
#error "tests/integration/isa.h: add this ISA's row of expectations"
#endif
  return e;
}

}  // namespace itest
