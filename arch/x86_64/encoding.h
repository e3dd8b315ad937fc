#pragma once
// The byte layout of one x86-64 instruction: prefixes, REX/VEX/EVEX/XOP, the
// opcode map and byte, and where the ModRM byte would be. Capstone decodes
// lengths and text; it does not say reliably where these fields sit (its
// encoding offsets are wrong for some VEX and segment-prefixed forms), and
// the tables and rewriting need exactly that.
#include <cstdint>
#include <optional>
#include <span>

namespace uptrace::arch::x86_64 {

enum class OpcodeMap : uint8_t {
  OneByte,     // xx
  TwoByte,     // 0f xx
  ThreeByte38, // 0f 38 xx
  ThreeByte3A, // 0f 3a xx
  Amd3DNow,    // 0f 0f modrm ... xx (the opcode is the last byte)
  Xop,         // 8f-prefixed AMD XOP maps
  Other,       // EVEX maps 4-7 (AVX512-FP16, APX)
};

enum class VexKind : uint8_t { None, Vex2, Vex3, Xop, Evex };

// The prefix that selects among SSE forms of an opcode, as the CPU sees it:
// the last f2/f3 wins over 66.
enum class SimdPrefix : uint8_t { None, P66, PF2, PF3 };

struct Encoding {
  // Legacy prefixes.
  bool lock = false;
  bool opsize = false;    // 66
  bool addrsize = false;  // 67
  uint8_t rep = 0;        // the last f2/f3, or 0
  uint8_t segment = 0;    // the last segment override, or 0

  std::optional<uint8_t> rex;  // only a REX directly before the opcode counts
  uint8_t rex_offset = 0;

  VexKind vex = VexKind::None;
  uint8_t vex_offset = 0;  // offset of c4/c5/62/8f
  uint8_t vvvv = 0;        // VEX/EVEX/XOP extra register operand, un-inverted (0-31)
  uint8_t vex_pp = 0;      // implied SIMD prefix of VEX/EVEX: 0 none, 1 66, 2 f3, 3 f2

  OpcodeMap map = OpcodeMap::OneByte;
  uint8_t opcode = 0;
  uint8_t opcode_offset = 0;
  // Where the ModRM byte is for opcodes that have one (the byte after the
  // opcode; for 3DNow the byte after 0f 0f). For `int` it is the imm8.
  uint8_t modrm_offset = 0;

  SimdPrefix simd_prefix() const;
  bool rex_b() const { return rex && (*rex & 0x01); }
  bool rex_w() const { return rex && (*rex & 0x08); }
};

// Parse the fields of the instruction starting at bytes[0]. Pass exactly the
// instruction's bytes when its length is known (3DNow's opcode is its last
// byte). nullopt when the bytes end before the opcode.
std::optional<Encoding> parse_encoding(std::span<const uint8_t> bytes);

}  // namespace uptrace::arch::x86_64
