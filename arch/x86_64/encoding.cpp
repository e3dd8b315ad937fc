#include "arch/x86_64/encoding.h"

#include <cstddef>

namespace uptrace::arch::x86_64 {

SimdPrefix Encoding::simd_prefix() const {
  if (vex != VexKind::None) {
    constexpr SimdPrefix kFromPp[] = {SimdPrefix::None, SimdPrefix::P66, SimdPrefix::PF3, SimdPrefix::PF2};
    return kFromPp[vex_pp & 3];
  }
  if (rep == 0xf2) return SimdPrefix::PF2;
  if (rep == 0xf3) return SimdPrefix::PF3;
  return opsize ? SimdPrefix::P66 : SimdPrefix::None;
}

namespace {

bool record_legacy_prefix(Encoding& e, uint8_t x) {
  switch (x) {
    case 0xf0: e.lock = true; return true;
    case 0xf2:
    case 0xf3: e.rep = x; return true;
    case 0x66: e.opsize = true; return true;
    case 0x67: e.addrsize = true; return true;
    case 0x26:
    case 0x2e:
    case 0x36:
    case 0x3e:
    case 0x64:
    case 0x65: e.segment = x; return true;
    default: return false;
  }
}

}  // namespace

std::optional<Encoding> parse_encoding(std::span<const uint8_t> b) {
  Encoding e;
  size_t i = 0;
  for (; i < b.size(); ++i) {
    const uint8_t x = b[i];
    if ((x & 0xf0) == 0x40) {
      e.rex = x;
      e.rex_offset = static_cast<uint8_t>(i);
      continue;
    }
    if (!record_legacy_prefix(e, x)) break;
    // The CPU ignores a REX that is followed by another prefix.
    e.rex.reset();
  }
  auto at = [&](size_t k) -> std::optional<uint8_t> {
    if (k >= b.size()) return std::nullopt;
    return b[k];
  };
  const auto first = at(i);
  if (!first) return std::nullopt;

  // In 64-bit mode c4/c5/62 are always VEX/EVEX; 8f is XOP only when the
  // map field is 8 or more (otherwise it is pop r/m).
  const auto b1 = at(i + 1);
  const bool is_xop = *first == 0x8f && b1 && (*b1 & 0x1f) >= 8;
  if (*first == 0xc5 || *first == 0xc4 || *first == 0x62 || is_xop) {
    const auto b2 = at(i + 2);
    e.vex_offset = static_cast<uint8_t>(i);
    size_t op = 0;
    uint8_t map_bits = 0;
    if (*first == 0xc5) {
      if (!b1) return std::nullopt;
      e.vex = VexKind::Vex2;
      e.vvvv = static_cast<uint8_t>((~*b1 >> 3) & 0xf);
      e.vex_pp = *b1 & 3;
      map_bits = 1;
      op = i + 2;
    } else if (*first == 0x62) {
      const auto b3 = at(i + 3);
      if (!b1 || !b2 || !b3) return std::nullopt;
      e.vex = VexKind::Evex;
      e.vvvv = static_cast<uint8_t>(((~*b2 >> 3) & 0xf) | ((~*b3 & 0x08) << 1));
      e.vex_pp = *b2 & 3;
      map_bits = *b1 & 0x07;
      op = i + 4;
    } else {
      if (!b1 || !b2) return std::nullopt;
      e.vex = is_xop ? VexKind::Xop : VexKind::Vex3;
      e.vvvv = static_cast<uint8_t>((~*b2 >> 3) & 0xf);
      e.vex_pp = *b2 & 3;
      map_bits = *b1 & 0x1f;
      op = i + 3;
    }
    if (is_xop) {
      e.map = OpcodeMap::Xop;
    } else if (map_bits == 1) {
      e.map = OpcodeMap::TwoByte;
    } else if (map_bits == 2) {
      e.map = OpcodeMap::ThreeByte38;
    } else if (map_bits == 3) {
      e.map = OpcodeMap::ThreeByte3A;
    } else {
      e.map = OpcodeMap::Other;
    }
    const auto opcode = at(op);
    if (!opcode) return std::nullopt;
    e.opcode = *opcode;
    e.opcode_offset = static_cast<uint8_t>(op);
    e.modrm_offset = static_cast<uint8_t>(op + 1);
    return e;
  }

  size_t op = i;
  if (*first == 0x0f) {
    if (!b1) return std::nullopt;
    if (*b1 == 0x38 || *b1 == 0x3a) {
      e.map = *b1 == 0x38 ? OpcodeMap::ThreeByte38 : OpcodeMap::ThreeByte3A;
      op = i + 2;
    } else if (*b1 == 0x0f) {
      e.map = OpcodeMap::Amd3DNow;
      e.opcode = b.back();
      e.opcode_offset = static_cast<uint8_t>(b.size() - 1);
      e.modrm_offset = static_cast<uint8_t>(i + 2);
      return e;
    } else {
      e.map = OpcodeMap::TwoByte;
      op = i + 1;
    }
  }
  const auto opcode = at(op);
  if (!opcode) return std::nullopt;
  e.opcode = *opcode;
  e.opcode_offset = static_cast<uint8_t>(op);
  e.modrm_offset = static_cast<uint8_t>(op + 1);
  return e;
}

}  // namespace uptrace::arch::x86_64
