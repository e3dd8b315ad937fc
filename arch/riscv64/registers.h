#pragma once
// The riscv64 register file as ptrace sees it: NT_PRSTATUS is struct
// user_regs_struct {pc, ra, sp, gp, tp, t0..t2, s0, s1, a0..a7, s2..s11,
// t3..t6}, 32 words, restated here so the ISA builds on any host. Word n is
// xn for n = 1..31; x0, the zero register, has no word, and word 0 is pc.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::riscv64 {

enum Word : uint16_t {
  kPc = 0,
  kRa = 1,
  kSp = 2,
  kGp = 3,
  kTp = 4,
  kS0 = 8,
  kA0 = 10,
  kA7 = 17,
  kWordCount = 32,
};

// ABI names of x0..x31 ("zero", "ra", "sp", ..., "t6"), as objdump prints them.
std::string_view x_name(unsigned n);
// ABI names of f0..f31 ("ft0", ..., "ft11").
std::string_view f_name(unsigned n);

// %ra, %sp, %gp, %tp, %t0..%t6, %s0..%s11, %fp, %a0..%a7, %x1..%x31, %pc
// (case-insensitive). x0/zero is not a register word, so it has no name
// here: it always reads 0.
std::optional<RegisterRef> register_by_name(std::string_view name);
std::vector<std::string> register_names();

// General register xn (0..31): x0 reads as zero.
uint64_t read_x(const Regs& regs, unsigned n);
// Writes xn; a write to x0 vanishes, as it does in the hardware.
void write_x(Regs& regs, unsigned n, uint64_t value);

}  // namespace uptrace::arch::riscv64
