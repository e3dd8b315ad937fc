#pragma once
// Fields of the fixed 32-bit, little-endian aarch64 encodings that the
// emulations and the slot rewriting read or write.
#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace uptrace::arch::aarch64 {

constexpr uint64_t kInsnSize = 4;

// The instruction word at the start of `code`, when there are 4 bytes.
std::optional<uint32_t> read_word(std::span<const uint8_t> code);
std::array<uint8_t, 4> word_bytes(uint32_t word);

constexpr unsigned bits(uint32_t word, unsigned hi, unsigned lo) {
  return (word >> lo) & ((uint32_t{1} << (hi - lo + 1)) - 1);
}
int64_t sign_extend(uint64_t value, unsigned width);

// The pc-relative immediate branch forms and where their offset lives.
enum class BranchForm : uint8_t {
  Imm26,  // b, bl: bits 25:0, words
  Imm19,  // b.cond, cbz/cbnz: bits 23:5, words
  Imm14,  // tbz/tbnz: bits 18:5, words
};
int64_t branch_offset(uint32_t word, BranchForm form);
// The same instruction with its offset replaced (`offset` in bytes, a
// multiple of 4 that fits the field).
uint32_t with_branch_offset(uint32_t word, BranchForm form, int64_t offset);

// adr: pc + imm21; adrp: (pc & ~0xfff) + (imm21 << 12).
uint64_t adr_value(uint32_t word, uint64_t pc);
uint64_t adrp_value(uint32_t word, uint64_t pc);
// ldr/ldrsw/prfm (literal): pc + imm19 * 4.
uint64_t literal_address(uint32_t word, uint64_t pc);

// Whether condition `cond` (b.cond's bits 3:0) holds for these NZCV flags.
bool condition_holds(unsigned cond, uint64_t pstate);
const char* condition_name(unsigned cond);

}  // namespace uptrace::arch::aarch64
