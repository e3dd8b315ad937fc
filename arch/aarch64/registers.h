#pragma once
// The aarch64 register file as ptrace sees it: NT_PRSTATUS is struct
// user_pt_regs {x0..x30, sp, pc, pstate}, restated here so the ISA builds on
// any host.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::aarch64 {

// Word indexes into Regs::words: x0..x30 are words 0..30.
enum Word : uint16_t { kX0 = 0, kFp = 29, kLr = 30, kSp = 31, kPc = 32, kPstate = 33, kWordCount = 34 };

// PSTATE bits the emulations look at (SPSR_EL1 layout, as ptrace reports it).
namespace pstate {
constexpr uint64_t kN = uint64_t{1} << 31;
constexpr uint64_t kZ = uint64_t{1} << 30;
constexpr uint64_t kC = uint64_t{1} << 29;
constexpr uint64_t kV = uint64_t{1} << 28;
// BTYPE (bits 11:10): set by an indirect branch, checked against the landing
// instruction on a guarded page. Any instruction that completes clears it.
constexpr uint64_t kBtype = uint64_t{3} << 10;
}  // namespace pstate

// Register number 31 in a field that names a general register: the zero
// register for data operands (never sp in the instructions uptrace emulates).
constexpr unsigned kZeroRegister = 31;

// x0..x30, w0..w30, sp, pc, lr, fp, pstate (case-insensitive).
std::optional<RegisterRef> register_by_name(std::string_view name);
std::vector<std::string> register_names();

// Reads general register `n` (0..30; 31 reads as zero).
uint64_t read_x(const Regs& regs, unsigned n);
// Writes general register `n` (0..30; 31 discards, as the zero register does).
void write_x(Regs& regs, unsigned n, uint64_t value);

}  // namespace uptrace::arch::aarch64
