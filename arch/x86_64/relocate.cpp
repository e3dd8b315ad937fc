#include "arch/x86_64/relocate.h"

#include <limits>

#include "arch/x86_64/insn_table.h"

namespace uptrace::arch::x86_64 {
namespace {

constexpr unsigned kRbx = 3, kRsi = 6, kRdi = 7;

int32_t read_le32(const uint8_t* p) {
  return static_cast<int32_t>(uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
}

void write_le32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

std::vector<uint8_t> copy_of(const Decoded& d) {
  auto code = d.insn.code();
  return {code.begin(), code.end()};
}

// Implicit users of a candidate that Capstone might not report; the kernel
// lists the same two (cmpxchg8b/16b use rbx; maskmovq/maskmovdqu write
// through rdi, though only with register operands today).
struct ImplicitUse {
  Pattern pattern;
  unsigned gpr;
};
constexpr ImplicitUse kImplicitUses[] = {
    {Pattern{OpcodeMap::TwoByte, 0xc7, 0xc7}.reg(1), kRbx},
    {Pattern{OpcodeMap::TwoByte, 0xf7, 0xf7}, kRdi},
};

}  // namespace

std::optional<uint8_t> rip_disp_offset(const Decoded& d) {
  if (!d.rip_relative()) return std::nullopt;
  const auto code = d.insn.code();
  const size_t modrm = d.enc.modrm_offset;
  if (modrm + 5 > code.size() || (code[modrm] & 0xc7) != 0x05) return std::nullopt;
  return static_cast<uint8_t>(modrm + 1);
}

uint64_t rip_target(const Decoded& d, RuntimeAddr at) {
  const auto offset = rip_disp_offset(d);
  if (!offset) return 0;
  const int64_t disp = read_le32(d.insn.code().data() + *offset);
  const uint64_t target = at.value + d.insn.length + static_cast<uint64_t>(disp);
  return d.enc.addrsize ? static_cast<uint32_t>(target) : target;
}

std::optional<std::vector<uint8_t>> redisplace(const Decoded& d, RuntimeAddr slot) {
  const auto offset = rip_disp_offset(d);
  if (!offset) return std::nullopt;
  const uint64_t target = rip_target(d, d.insn.address);
  const int64_t disp = static_cast<int64_t>(target - (slot.value + d.insn.length));
  // eip-relative addressing wraps at 32 bits, so any displacement reaches.
  if (!d.enc.addrsize && (disp < std::numeric_limits<int32_t>::min() || disp > std::numeric_limits<int32_t>::max())) {
    return std::nullopt;
  }
  auto code = copy_of(d);
  write_le32(code.data() + *offset, static_cast<uint32_t>(disp));
  return code;
}

std::optional<unsigned> choose_scratch(const Decoded& d) {
  const auto code = d.insn.code();
  uint16_t used = d.gprs_accessed;
  // Like the kernel, rule out ModRM.reg and VEX.vvvv by their low three
  // bits whatever the extension bits say: cheap, and it cannot pick wrong.
  if (d.enc.modrm_offset < code.size()) used |= static_cast<uint16_t>(1u << ((code[d.enc.modrm_offset] >> 3) & 7));
  if (d.enc.vex != VexKind::None) used |= static_cast<uint16_t>(1u << (d.enc.vvvv & 7));
  for (const ImplicitUse& u : kImplicitUses) {
    if (u.pattern.matches(d.enc, code)) used |= static_cast<uint16_t>(1u << u.gpr);
  }
  for (unsigned candidate : {kRsi, kRdi, kRbx}) {
    if (!(used & (1u << candidate))) return candidate;
  }
  return std::nullopt;
}

std::vector<uint8_t> via_scratch(const Decoded& d, unsigned scratch) {
  auto code = copy_of(d);
  uint8_t& modrm = code[d.enc.modrm_offset];
  // mod 00 rm 101 (rip + disp32) becomes mod 10 rm scratch (scratch + disp32): same length.
  modrm = static_cast<uint8_t>(0x80 | (modrm & 0x38) | (scratch & 7));
  // REX.B would extend rm to r11/r14/r15; it was ignored for rip-relative forms.
  if (d.enc.rex) code[d.enc.rex_offset] &= 0xfe;
  // VEX3/XOP/EVEX carry B (and X, which extends rm in EVEX) inverted in the
  // byte after the escape; VEX2 implies both clear.
  if (d.enc.vex == VexKind::Vex3 || d.enc.vex == VexKind::Xop || d.enc.vex == VexKind::Evex) {
    code[d.enc.vex_offset + 1] |= 0x60;
  }
  return code;
}

RipRewriteResult rewrite_rip_relative(const Decoded& d, RuntimeAddr slot) {
  if (!rip_disp_offset(d)) return {std::nullopt, "rip-relative operand in an encoding uptrace cannot rewrite"};
  if (auto code = redisplace(d, slot)) return {RipRewrite{std::move(*code), std::nullopt}, {}};
  const auto scratch = choose_scratch(d);
  if (!scratch) {
    return {std::nullopt,
            "rip-relative operand: the slot is more than 2 GB from its target and the instruction uses rsi, rdi "
            "and rbx, so no scratch register is free"};
  }
  return {RipRewrite{via_scratch(d, *scratch), *scratch}, {}};
}

uint64_t relative_branch_target(const Decoded& d) {
  const bool rel32 = d.enc.map == OpcodeMap::TwoByte || d.enc.opcode == 0xe8 || d.enc.opcode == 0xe9;
  const auto code = d.insn.code();
  const auto rel = code.last(rel32 ? 4 : 1);
  uint64_t v = 0;
  for (size_t i = 0; i < rel.size(); ++i) v |= uint64_t{rel[i]} << (8 * i);
  const unsigned unused = 64 - 8 * static_cast<unsigned>(rel.size());
  const int64_t displacement = static_cast<int64_t>(v << unused) >> unused;
  return d.insn.address.value + d.insn.length + static_cast<uint64_t>(displacement);
}

}  // namespace uptrace::arch::x86_64
