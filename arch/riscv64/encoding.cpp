#include "arch/riscv64/encoding.h"

#include <cassert>

namespace uptrace::arch::riscv64 {

std::optional<unsigned> insn_length(uint16_t p) {
  if ((p & 0x3) != 0x3) return 2;
  if ((p & 0x1c) != 0x1c) return 4;
  if ((p & 0x3f) == 0x1f) return 6;
  if ((p & 0x7f) == 0x3f) return 8;
  return std::nullopt;
}

std::optional<uint16_t> read_parcel(std::span<const uint8_t> code) {
  if (code.size() < 2) return std::nullopt;
  return static_cast<uint16_t>(code[0] | code[1] << 8);
}

std::optional<uint32_t> read_word(std::span<const uint8_t> code) {
  if (code.size() < 4) return std::nullopt;
  return uint32_t{code[0]} | uint32_t{code[1]} << 8 | uint32_t{code[2]} << 16 | uint32_t{code[3]} << 24;
}

std::array<uint8_t, 4> word_bytes(uint32_t w) {
  return {static_cast<uint8_t>(w), static_cast<uint8_t>(w >> 8), static_cast<uint8_t>(w >> 16),
          static_cast<uint8_t>(w >> 24)};
}

std::array<uint8_t, 2> parcel_bytes(uint16_t p) { return {static_cast<uint8_t>(p), static_cast<uint8_t>(p >> 8)}; }

int64_t sign_extend(uint64_t value, unsigned width) {
  const unsigned unused = 64 - width;
  return static_cast<int64_t>(value << unused) >> unused;
}

int64_t imm_i(uint32_t w) { return sign_extend(bits(w, 31, 20), 12); }
int64_t imm_s(uint32_t w) { return sign_extend(bits(w, 31, 25) << 5 | bits(w, 11, 7), 12); }
int64_t imm_b(uint32_t w) {
  return sign_extend(bits(w, 31, 31) << 12 | bits(w, 7, 7) << 11 | bits(w, 30, 25) << 5 | bits(w, 11, 8) << 1, 13);
}
int64_t imm_u(uint32_t w) { return sign_extend(w & 0xfffff000u, 32); }
int64_t imm_j(uint32_t w) {
  return sign_extend(bits(w, 31, 31) << 20 | bits(w, 19, 12) << 12 | bits(w, 20, 20) << 11 | bits(w, 30, 21) << 1, 21);
}

int64_t c_imm_ci(uint32_t p) { return sign_extend(bits(p, 12, 12) << 5 | bits(p, 6, 2), 6); }
unsigned c_shamt(uint32_t p) { return bits(p, 12, 12) << 5 | bits(p, 6, 2); }
int64_t c_imm_lui(uint32_t p) { return sign_extend(bits(p, 12, 12) << 5 | bits(p, 6, 2), 6) * 4096; }
int64_t c_imm_addi16sp(uint32_t p) {
  return sign_extend(bits(p, 12, 12) << 9 | bits(p, 4, 3) << 7 | bits(p, 5, 5) << 6 | bits(p, 2, 2) << 5 |
                         bits(p, 6, 6) << 4,
                     10);
}
unsigned c_imm_addi4spn(uint32_t p) {
  return bits(p, 10, 7) << 6 | bits(p, 12, 11) << 4 | bits(p, 5, 5) << 3 | bits(p, 6, 6) << 2;
}
unsigned c_uimm_w(uint32_t p) { return bits(p, 5, 5) << 6 | bits(p, 12, 10) << 3 | bits(p, 6, 6) << 2; }
unsigned c_uimm_d(uint32_t p) { return bits(p, 6, 5) << 6 | bits(p, 12, 10) << 3; }
unsigned c_uimm_lwsp(uint32_t p) { return bits(p, 3, 2) << 6 | bits(p, 12, 12) << 5 | bits(p, 6, 4) << 2; }
unsigned c_uimm_ldsp(uint32_t p) { return bits(p, 4, 2) << 6 | bits(p, 12, 12) << 5 | bits(p, 6, 5) << 3; }
unsigned c_uimm_swsp(uint32_t p) { return bits(p, 8, 7) << 6 | bits(p, 12, 9) << 2; }
unsigned c_uimm_sdsp(uint32_t p) { return bits(p, 9, 7) << 6 | bits(p, 12, 10) << 3; }
int64_t c_imm_j(uint32_t p) {
  return sign_extend(bits(p, 12, 12) << 11 | bits(p, 8, 8) << 10 | bits(p, 10, 9) << 8 | bits(p, 6, 6) << 7 |
                         bits(p, 7, 7) << 6 | bits(p, 2, 2) << 5 | bits(p, 11, 11) << 4 | bits(p, 5, 3) << 1,
                     12);
}
int64_t c_imm_b(uint32_t p) {
  return sign_extend(bits(p, 12, 12) << 8 | bits(p, 6, 5) << 6 | bits(p, 2, 2) << 5 | bits(p, 11, 10) << 3 |
                         bits(p, 4, 3) << 1,
                     9);
}

namespace {
bool fits_signed(int64_t v, unsigned width) { return sign_extend(static_cast<uint64_t>(v), width) == v; }
}  // namespace

uint32_t encode_r(unsigned opc, unsigned f3, unsigned f7, unsigned d, unsigned s1, unsigned s2) {
  assert(opc < 128 && f3 < 8 && f7 < 128 && d < 32 && s1 < 32 && s2 < 32);
  return f7 << 25 | s2 << 20 | s1 << 15 | f3 << 12 | d << 7 | opc;
}

uint32_t encode_i(unsigned opc, unsigned f3, unsigned d, unsigned s1, int64_t imm) {
  assert(fits_signed(imm, 12) && opc < 128 && f3 < 8 && d < 32 && s1 < 32);
  return (static_cast<uint32_t>(imm) & 0xfff) << 20 | s1 << 15 | f3 << 12 | d << 7 | opc;
}

uint32_t encode_s(unsigned opc, unsigned f3, unsigned s1, unsigned s2, int64_t imm) {
  assert(fits_signed(imm, 12) && opc < 128 && f3 < 8 && s1 < 32 && s2 < 32);
  const auto u = static_cast<uint32_t>(imm);
  return bits(u, 11, 5) << 25 | s2 << 20 | s1 << 15 | f3 << 12 | bits(u, 4, 0) << 7 | opc;
}

uint32_t encode_b(unsigned f3, unsigned s1, unsigned s2, int64_t offset) {
  assert(fits_signed(offset, 13) && offset % 2 == 0 && f3 < 8 && s1 < 32 && s2 < 32);
  const auto u = static_cast<uint32_t>(offset);
  return bits(u, 12, 12) << 31 | bits(u, 10, 5) << 25 | s2 << 20 | s1 << 15 | f3 << 12 | bits(u, 4, 1) << 8 |
         bits(u, 11, 11) << 7 | op::kBranch;
}

uint32_t encode_u(unsigned opc, unsigned d, int64_t imm) {
  assert(fits_signed(imm, 32) && (imm & 0xfff) == 0 && d < 32);
  return (static_cast<uint32_t>(imm) & 0xfffff000u) | d << 7 | opc;
}

uint32_t encode_j(unsigned d, int64_t offset) {
  assert(fits_signed(offset, 21) && offset % 2 == 0 && d < 32);
  const auto u = static_cast<uint32_t>(offset);
  return bits(u, 20, 20) << 31 | bits(u, 10, 1) << 21 | bits(u, 11, 11) << 20 | bits(u, 19, 12) << 12 | d << 7 |
         op::kJal;
}

}  // namespace uptrace::arch::riscv64
