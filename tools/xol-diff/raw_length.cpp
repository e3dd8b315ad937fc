#include "raw_length.h"

#include "arch/x86_64/encoding.h"

namespace xol_diff {
namespace {

using uptrace::arch::x86_64::OpcodeMap;
using uptrace::arch::x86_64::VexKind;

bool two_byte_has_modrm(uint8_t op) {
  if (op >= 0x05 && op <= 0x0b) return false;
  if (op == 0x0e || (op >= 0x30 && op <= 0x37) || op == 0x77) return false;
  if (op >= 0x80 && op <= 0x8f) return false;
  if ((op >= 0xa0 && op <= 0xa2) || (op >= 0xa8 && op <= 0xaa) || (op >= 0xc8 && op <= 0xcf)) return false;
  return true;
}

uint8_t two_byte_immediate(uint8_t op) {
  if (op >= 0x70 && op <= 0x73) return 1;
  if (op == 0xa4 || op == 0xac || op == 0xba || (op >= 0xc2 && op <= 0xc6)) return 1;
  if (op >= 0x80 && op <= 0x8f) return 4;
  return 0;
}

// ModRM, SIB and displacement bytes starting at `at` (32-bit addressing in
// 64-bit mode has the same layout).
std::optional<size_t> modrm_bytes(std::span<const uint8_t> code, size_t at) {
  if (at >= code.size()) return std::nullopt;
  const uint8_t modrm = code[at];
  const uint8_t mod = modrm >> 6, rm = modrm & 7;
  size_t n = 1;
  if (mod == 3) return n;
  if (rm == 4) {
    if (at + 1 >= code.size()) return std::nullopt;
    ++n;
    if (mod == 0 && (code[at + 1] & 7) == 5) n += 4;
  }
  if (mod == 0 && rm == 5) n += 4;
  if (mod == 1) n += 1;
  if (mod == 2) n += 4;
  return n;
}

}  // namespace

std::optional<uint8_t> raw_length(std::span<const uint8_t> code) {
  const auto enc = uptrace::arch::x86_64::parse_encoding(code);
  if (!enc) return std::nullopt;
  size_t imm = 0;
  bool modrm = true;
  switch (enc->map) {
    case OpcodeMap::OneByte: return std::nullopt;
    case OpcodeMap::TwoByte:
      modrm = enc->vex != VexKind::None || two_byte_has_modrm(enc->opcode);
      imm = enc->vex != VexKind::None ? 0 : two_byte_immediate(enc->opcode);
      break;
    case OpcodeMap::ThreeByte38: break;
    case OpcodeMap::ThreeByte3A: imm = 1; break;
    default: return std::nullopt;
  }
  size_t n = enc->modrm_offset;
  if (modrm) {
    const auto m = modrm_bytes(code, n);
    if (!m) return std::nullopt;
    n += *m;
  }
  n += imm;
  if (n > 15 || n > code.size()) return std::nullopt;
  return static_cast<uint8_t>(n);
}

}  // namespace xol_diff
