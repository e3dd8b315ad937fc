#include "arch/aarch64/encoding.h"

#include <array>
#include <cassert>

#include "arch/aarch64/registers.h"

namespace uptrace::arch::aarch64 {
namespace {

struct Field {
  unsigned lo;
  unsigned width;
};

constexpr Field field(BranchForm form) {
  switch (form) {
    case BranchForm::Imm26: return {0, 26};
    case BranchForm::Imm19: return {5, 19};
    case BranchForm::Imm14: return {5, 14};
  }
  return {0, 0};
}

}  // namespace

std::optional<uint32_t> read_word(std::span<const uint8_t> code) {
  if (code.size() < kInsnSize) return std::nullopt;
  return uint32_t{code[0]} | uint32_t{code[1]} << 8 | uint32_t{code[2]} << 16 | uint32_t{code[3]} << 24;
}

std::array<uint8_t, 4> word_bytes(uint32_t word) {
  return {static_cast<uint8_t>(word), static_cast<uint8_t>(word >> 8), static_cast<uint8_t>(word >> 16),
          static_cast<uint8_t>(word >> 24)};
}

int64_t sign_extend(uint64_t value, unsigned width) {
  const unsigned unused = 64 - width;
  return static_cast<int64_t>(value << unused) >> unused;
}

int64_t branch_offset(uint32_t word, BranchForm form) {
  const Field f = field(form);
  return sign_extend(bits(word, f.lo + f.width - 1, f.lo), f.width) * 4;
}

uint32_t with_branch_offset(uint32_t word, BranchForm form, int64_t offset) {
  const Field f = field(form);
  assert(offset % 4 == 0 && sign_extend(static_cast<uint64_t>(offset / 4), f.width) == offset / 4);
  const uint32_t mask = ((uint32_t{1} << f.width) - 1) << f.lo;
  return (word & ~mask) | ((static_cast<uint32_t>(offset / 4) << f.lo) & mask);
}

namespace {
// adr/adrp: immlo in bits 30:29, immhi in bits 23:5.
int64_t adr_immediate(uint32_t word) { return sign_extend(bits(word, 23, 5) << 2 | bits(word, 30, 29), 21); }
}  // namespace

uint64_t adr_value(uint32_t word, uint64_t pc) { return pc + static_cast<uint64_t>(adr_immediate(word)); }

uint64_t adrp_value(uint32_t word, uint64_t pc) {
  return (pc & ~uint64_t{0xfff}) + (static_cast<uint64_t>(adr_immediate(word)) << 12);
}

uint64_t literal_address(uint32_t word, uint64_t pc) {
  return pc + static_cast<uint64_t>(branch_offset(word, BranchForm::Imm19));
}

bool condition_holds(unsigned cond, uint64_t flags) {
  const bool n = flags & pstate::kN, z = flags & pstate::kZ, c = flags & pstate::kC, v = flags & pstate::kV;
  bool holds = false;
  switch ((cond >> 1) & 7) {
    case 0: holds = z; break;                // eq
    case 1: holds = c; break;                // cs/hs
    case 2: holds = n; break;                // mi
    case 3: holds = v; break;                // vs
    case 4: holds = c && !z; break;          // hi
    case 5: holds = n == v; break;           // ge
    case 6: holds = !z && n == v; break;     // gt
    case 7: return true;                     // al, and nv, which also always holds in A64
  }
  // Odd conditions are the negations.
  return (cond & 1) ? !holds : holds;
}

const char* condition_name(unsigned cond) {
  static constexpr const char* kNames[16] = {"eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc",
                                             "hi", "ls", "ge", "lt", "gt", "le", "al", "nv"};
  return kNames[cond & 15];
}

}  // namespace uptrace::arch::aarch64
