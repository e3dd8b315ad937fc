#pragma once
// The instruction classes that cannot be stepped out of line as they are:
// refused ones, and ones that are emulated or need a fixup. Each row is a
// pattern over the legacy encoding, a class and the reason for it. Anything
// that matches no row (including every VEX/EVEX/XOP instruction) is stepped
// in the slot with pc relocated, its rip-relative operand rewritten.
#include <cstdint>
#include <span>
#include <string_view>

#include "arch/x86_64/encoding.h"

namespace uptrace::arch::x86_64 {

enum class InsnClass : uint8_t {
  Trap,          // refused: a breakpoint instruction of some variant
  Refused,       // refused for the row's reason
  Plain,         // stepped, pc relocated (what unlisted instructions get)
  JmpRel,        // jmp rel8/rel32
  CallRel,       // call rel32
  Jcc,           // jcc rel8/rel32
  Loop,          // loop, loope, loopne
  Jrcxz,         // jrcxz, jecxz
  Nop,           // nop forms: pc moves past
  Endbr,         // endbr64/endbr32: pc moves past
  PushReg,       // push r64
  PushImm,       // push imm8/imm32
  Pushf,         // pushf
  Ret,           // ret, ret imm16
  JmpIndirect,   // jmp r/m64
  CallIndirect,  // call r/m64
  LeaRip,        // lea reg, [rip + disp]
};

// Which SIMD-selecting prefix (Encoding::simd_prefix) a pattern requires.
enum class PrefixRule : uint8_t { Any, None, P66, PF2, PF3, Rep /* f2 or f3 */ };

struct Pattern {
  static constexpr int16_t kAny = -1;
  enum class Mod : uint8_t { Any, Memory, Register, RipRelative };

  OpcodeMap map = OpcodeMap::OneByte;
  uint8_t first = 0;  // opcode range
  uint8_t last = 0;
  int16_t next_byte = kAny;  // the byte after the opcode (ModRM, or the imm8 of `int`)
  int16_t modrm_reg = kAny;
  Mod mod = Mod::Any;
  PrefixRule prefix = PrefixRule::Any;
  bool needs_opsize = false;  // a 66 prefix anywhere
  int16_t rex_b = kAny;
  int16_t rex_w = kAny;

  constexpr Pattern next(uint8_t b) const { Pattern p = *this; p.next_byte = b; return p; }
  constexpr Pattern reg(uint8_t r) const { Pattern p = *this; p.modrm_reg = r; return p; }
  constexpr Pattern memory() const { Pattern p = *this; p.mod = Mod::Memory; return p; }
  constexpr Pattern register_form() const { Pattern p = *this; p.mod = Mod::Register; return p; }
  constexpr Pattern rip_relative() const { Pattern p = *this; p.mod = Mod::RipRelative; return p; }
  constexpr Pattern with(PrefixRule r) const { Pattern p = *this; p.prefix = r; return p; }
  constexpr Pattern opsize() const { Pattern p = *this; p.needs_opsize = true; return p; }
  constexpr Pattern rex_b_set() const { Pattern p = *this; p.rex_b = 1; return p; }
  constexpr Pattern rex_w_clear() const { Pattern p = *this; p.rex_w = 0; return p; }

  bool matches(const Encoding& enc, std::span<const uint8_t> bytes) const;
};

struct InsnRow {
  std::string_view name;  // "jcc rel8", "syscall"
  Pattern pattern;
  InsnClass cls;
  // For a refusal, the phrase shown to the user; otherwise why the class
  // needs its special handling.
  std::string_view reason;
};

// All rows, in match order (the first match wins).
std::span<const InsnRow> insn_rows();

// The first row the instruction matches, or null for a plain instruction.
// `bytes` are the instruction's bytes (or the bytes at the site when the
// decoder could not decode them).
const InsnRow* classify(const Encoding& enc, std::span<const uint8_t> bytes);

}  // namespace uptrace::arch::x86_64
