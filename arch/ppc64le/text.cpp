#include "arch/ppc64le/text.h"

#include <fmt/format.h>

#include "arch/ppc64le/encoding.h"

namespace uptrace::arch::ppc64le {
namespace {

constexpr const char* kCrBit[4] = {"lt", "gt", "eq", "so"};
constexpr const char* kCrBitFalse[4] = {"ge", "le", "ne", "ns"};

// The extended mnemonic's stem for BO/BI ("beq", "bdnz"), and whether the
// BI operand is part of it; empty when BO has no simple form.
struct Stem {
  std::string stem;
  bool shows_cr = false;
  std::string hint;
};

Stem stem_of(unsigned bo, unsigned bi) {
  // The "at" hint bits: 0b11 likely taken, 0b10 likely not taken.
  auto cond_hint = [](unsigned at) { return at == 3 ? "+" : at == 2 ? "-" : ""; };
  if ((bo & 0x14) == 0x14) return {"b", false, ""};                          // 1z1zz: always
  if ((bo & 0x1c) == 0x04) return {std::string("b") + kCrBitFalse[bi % 4], true, cond_hint(bo & 3)};  // 001at
  if ((bo & 0x1c) == 0x0c) return {std::string("b") + kCrBit[bi % 4], true, cond_hint(bo & 3)};       // 011at
  const bool ctr_hint = bo & 0x08;                                           // 1a00t / 1a01t: a in bit 3
  const char* h = ctr_hint ? ((bo & 1) ? "+" : "-") : "";
  if ((bo & 0x16) == 0x10) return {"bdnz", false, h};
  if ((bo & 0x16) == 0x12) return {"bdz", false, h};
  return {};
}

std::string cr_operand(unsigned bi) { return bi / 4 == 0 ? "" : fmt::format("cr{}", bi / 4); }

}  // namespace

std::string branch_text(uint32_t word, uint64_t site) {
  const unsigned op = primary_opcode(word);
  const std::string suffix = std::string(link_bit(word) ? "l" : "");
  if (op == 18) {
    return fmt::format("b{}{} {:#x}", suffix, absolute_bit(word) ? "a" : "", branch_target(word, site));
  }
  const unsigned bo = rt(word), bi = ra(word);
  const Stem s = stem_of(bo, bi);
  if (op == 16) {
    if (word == 0x429f0005) return "bcl 20,31,$+4";
    const std::string aa = absolute_bit(word) ? "a" : "";
    const uint64_t target = branch_target(word, site);
    if (s.stem.empty() || s.stem == "b")
      return fmt::format("bc{}{} {},{},{:#x}", suffix, aa, bo, bi, target);
    const std::string cr = s.shows_cr ? cr_operand(bi) : "";
    return fmt::format("{}{}{}{} {}{:#x}", s.stem, suffix, aa, s.hint, cr.empty() ? "" : cr + ",", target);
  }
  // bclr, bcctr, bctar: the register in the name.
  const unsigned xo = bits(word, 10, 1);
  const char* reg = xo == 16 ? "lr" : xo == 528 ? "ctr" : "tar";
  const char* raw = xo == 16 ? "bclr" : xo == 528 ? "bcctr" : "bctar";
  if (s.stem.empty()) return fmt::format("{}{} {},{}", raw, suffix, bo, bi);
  const std::string cr = s.shows_cr ? cr_operand(bi) : "";
  const std::string name = fmt::format("{}{}{}{}", s.stem, reg, suffix, s.hint);
  return cr.empty() ? name : fmt::format("{} {}", name, cr);
}

std::optional<std::string> isa3_text(uint32_t word) {
  const InsnRow* row = classify(word);
  if (!row) return std::nullopt;
  if (row->cls == InsnClass::Addpcis) {
    const uint32_t d = bits(word, 15, 6) << 6 | bits(word, 20, 16) << 1 | bits(word, 0, 0);
    if (d == 0) return fmt::format("lnia r{}", rt(word));
    return fmt::format("addpcis r{},{}", rt(word), sign_extend(d, 16));
  }
  if (row->name == "scv") return fmt::format("scv {}", bits(word, 11, 5));
  return std::nullopt;
}

std::string prefixed_text(const PrefixedRow& row, uint32_t prefix, uint32_t suffix, uint64_t site) {
  if (!row.has_displacement) return fmt::format("{} (prefixed {:#010x} {:#010x})", row.name, prefix, suffix);
  const int64_t d = prefixed_displacement(prefix, suffix);
  const unsigned t = rt(suffix), a = ra(suffix);
  if (row.name == "paddi") {
    if (prefix_pc_relative(prefix)) return fmt::format("pla r{},{:#x}", t, site + static_cast<uint64_t>(d));
    if (a == 0) return fmt::format("pli r{},{}", t, d);
    return fmt::format("paddi r{},r{},{}", t, a, d);
  }
  // The register operand's file: GPRs rN, FPRs fN, VRs vN, VSRs vsN (TX,
  // the suffix's bit 26, selects the upper 32 for plxv/pstxv).
  const std::string_view n = row.name;
  std::string target;
  if (n == "plxv" || n == "pstxv") {
    target = fmt::format("vs{}", t + 32 * bits(suffix, 26, 26));
  } else if (n == "plfs" || n == "plfd" || n == "pstfs" || n == "pstfd") {
    target = fmt::format("f{}", t);
  } else if (n == "plxsd" || n == "plxssp" || n == "pstxsd" || n == "pstxssp") {
    target = fmt::format("v{}", t);
  } else if (n == "plxvp" || n == "pstxvp") {
    target = fmt::format("vsp{}", t);
  } else {
    target = fmt::format("r{}", t);
  }
  if (prefix_pc_relative(prefix)) return fmt::format("{} {},{:#x}", row.name, target, site + static_cast<uint64_t>(d));
  return fmt::format("{} {},{}(r{})", row.name, target, d, a);
}

std::string undecoded_text(uint32_t word, std::string_view row_name) {
  return row_name.empty() ? fmt::format(".long {:#010x}", word) : fmt::format(".long {:#010x} ({})", word, row_name);
}

}  // namespace uptrace::arch::ppc64le
