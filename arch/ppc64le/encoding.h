#pragma once
// Fields of the ppc64 (Power ISA 3.1, little-endian) instruction encodings
// that the decoder, the emulations and the slot rewriting read or write.
// Bit numbers here count from the least significant bit (the ISA documents
// count from the most significant, bit 0 = 2^31).
#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace uptrace::arch::ppc64le {

constexpr uint64_t kWordSize = 4;
constexpr uint64_t kPrefixedSize = 8;
// A prefixed instruction may not cross a 64-byte boundary (ISA 3.1 1.6.3):
// one whose prefix is the last word of a 64-byte block is invalid.
constexpr uint64_t kPrefixBoundary = 64;

// The little-endian word at the start of `code`, when there are 4 bytes.
std::optional<uint32_t> read_word(std::span<const uint8_t> code);
std::array<uint8_t, 4> word_bytes(uint32_t word);

constexpr unsigned bits(uint32_t word, unsigned hi, unsigned lo) {
  return (word >> lo) & ((uint32_t{1} << (hi - lo + 1)) - 1);
}
int64_t sign_extend(uint64_t value, unsigned width);

constexpr unsigned primary_opcode(uint32_t word) { return word >> 26; }
// Primary opcode 1 is a prefix: the instruction is this word and the next.
constexpr bool is_prefix(uint32_t word) { return primary_opcode(word) == 1; }

// The fields of a prefix word (ISA 3.1 1.6.3).
enum class PrefixType : uint8_t { Ls8 = 0, Rr8 = 1, Mls = 2, Mmirr = 3 };
constexpr PrefixType prefix_type(uint32_t prefix) { return static_cast<PrefixType>(bits(prefix, 25, 24)); }
// R: the displacement is relative to the prefixed instruction's own address.
constexpr bool prefix_pc_relative(uint32_t prefix) { return bits(prefix, 20, 20) != 0; }
// The 34-bit displacement of an 8LS/MLS instruction: d0 (prefix bits 17:0)
// above d1 (suffix bits 15:0).
int64_t prefixed_displacement(uint32_t prefix, uint32_t suffix);
// The same pair with R cleared, the displacement 0 and RA = `ra`: the form
// that addresses [ra] instead of pc + displacement.
std::array<uint32_t, 2> with_base_register(uint32_t prefix, uint32_t suffix, unsigned ra);

// Common operand fields.
constexpr unsigned rt(uint32_t word) { return bits(word, 25, 21); }  // RT/RS/BO/TO
constexpr unsigned ra(uint32_t word) { return bits(word, 20, 16); }  // RA/BI
constexpr unsigned rb(uint32_t word) { return bits(word, 15, 11); }
constexpr bool link_bit(uint32_t word) { return (word & 1) != 0; }       // LK
constexpr bool absolute_bit(uint32_t word) { return (word & 2) != 0; }   // AA

// b/ba/bl/bla: LI || 0b00, sign-extended.
int64_t branch_offset_i(uint32_t word);
// bc: BD || 0b00, sign-extended.
int64_t branch_offset_b(uint32_t word);
// The target of b/bc at `site`: site + offset, or the offset itself with AA.
uint64_t branch_target(uint32_t word, uint64_t site);
// addpcis RT,D: (site + 4) + (D << 16), D = d0 || d1 || d2.
uint64_t addpcis_value(uint32_t word, uint64_t site);

// An SPR number from mfspr/mtspr's split field. SPRs whose number has bit 4
// set are privileged (ISA 3.1 4.4.4).
constexpr unsigned spr_number(uint32_t word) { return bits(word, 20, 16) | bits(word, 15, 11) << 5; }

}  // namespace uptrace::arch::ppc64le
