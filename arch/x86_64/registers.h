#pragma once
// The x86-64 register file as ptrace sees it: struct user_regs_struct from
// <sys/user.h>, restated here so the ISA builds on any host.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::x86_64 {

// Word indexes into Regs::words, in user_regs_struct order.
enum Word : uint16_t {
  kR15, kR14, kR13, kR12, kRbp, kRbx, kR11, kR10, kR9, kR8, kRax, kRcx, kRdx, kRsi, kRdi,
  kOrigRax, kRip, kCs, kEflags, kRsp, kSs, kFsBase, kGsBase, kDs, kEs, kFs, kGs,
  kWordCount
};

// EFLAGS bits the emulation and fixups look at.
namespace flags {
constexpr uint64_t kCF = 1u << 0;
constexpr uint64_t kPF = 1u << 2;
constexpr uint64_t kZF = 1u << 6;
constexpr uint64_t kSF = 1u << 7;
constexpr uint64_t kTF = 1u << 8;
constexpr uint64_t kOF = 1u << 11;
constexpr uint64_t kRF = 1u << 16;
constexpr uint64_t kVM = 1u << 17;
}  // namespace flags

// A register (or part) by its Intel name: rax, eax, ax, al, ah, r8d, sil, rip, eflags, ...
std::optional<RegisterRef> register_by_name(std::string_view name);
std::vector<std::string> register_names();

// The general-purpose register family of a register name, as numbered in
// instruction encodings (0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp, 6 rsi,
// 7 rdi, 8-15 r8-r15): "esi" and "sil" give 6.
std::optional<unsigned> gpr_number(std::string_view name);
// The Regs word that holds general-purpose register number `n`.
uint16_t gpr_word(unsigned n);
// The 64-bit name of general-purpose register number `n` ("rsi").
std::string_view gpr_name(unsigned n);

// Write `value` to a register or part with x86-64 semantics: a 32-bit write
// zero-extends to 64 bits, 8- and 16-bit writes leave the other bits alone.
void write_register(Regs& regs, RegisterRef ref, uint64_t value);

}  // namespace uptrace::arch::x86_64
