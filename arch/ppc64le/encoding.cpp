#include "arch/ppc64le/encoding.h"

namespace uptrace::arch::ppc64le {

std::optional<uint32_t> read_word(std::span<const uint8_t> code) {
  if (code.size() < kWordSize) return std::nullopt;
  return uint32_t{code[0]} | uint32_t{code[1]} << 8 | uint32_t{code[2]} << 16 | uint32_t{code[3]} << 24;
}

std::array<uint8_t, 4> word_bytes(uint32_t word) {
  return {static_cast<uint8_t>(word), static_cast<uint8_t>(word >> 8), static_cast<uint8_t>(word >> 16),
          static_cast<uint8_t>(word >> 24)};
}

int64_t sign_extend(uint64_t value, unsigned width) {
  const uint64_t sign = uint64_t{1} << (width - 1);
  value &= (sign << 1) - 1;
  return static_cast<int64_t>((value ^ sign) - sign);
}

int64_t prefixed_displacement(uint32_t prefix, uint32_t suffix) {
  return sign_extend(uint64_t{bits(prefix, 17, 0)} << 16 | bits(suffix, 15, 0), 34);
}

std::array<uint32_t, 2> with_base_register(uint32_t prefix, uint32_t suffix, unsigned ra) {
  const uint32_t p = prefix & ~(uint32_t{1} << 20) & ~uint32_t{0x3ffff};
  const uint32_t s = (suffix & ~uint32_t{0x1fffff}) | (ra & 31) << 16;
  return {p, s};
}

int64_t branch_offset_i(uint32_t word) { return sign_extend(word & 0x03fffffc, 26); }
int64_t branch_offset_b(uint32_t word) { return sign_extend(word & 0xfffc, 16); }

uint64_t branch_target(uint32_t word, uint64_t site) {
  const int64_t off = primary_opcode(word) == 18 ? branch_offset_i(word) : branch_offset_b(word);
  return absolute_bit(word) ? static_cast<uint64_t>(off) : site + static_cast<uint64_t>(off);
}

uint64_t addpcis_value(uint32_t word, uint64_t site) {
  const uint64_t d = uint64_t{bits(word, 15, 6)} << 6 | uint64_t{bits(word, 20, 16)} << 1 | bits(word, 0, 0);
  return site + kWordSize + (static_cast<uint64_t>(sign_extend(d, 16)) << 16);
}

}  // namespace uptrace::arch::ppc64le
