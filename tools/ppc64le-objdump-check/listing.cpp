#include "listing.h"

#include <cctype>
#include <optional>

#include <fmt/format.h>

#include "arch/isa.h"
#include "arch/ppc64le/decoder.h"
#include "arch/ppc64le/insn_table.h"

namespace uptrace::tools::ppc64le_check {
namespace {

bool ends_with(std::string_view s, std::string_view tail) { return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail; }

Kind kind_of_class(arch::ppc64le::InsnClass c) {
  using C = arch::ppc64le::InsnClass;
  switch (c) {
    case C::Branch: return Kind::Branch;
    case C::BranchCond: return Kind::BranchCond;
    case C::BranchLr: return Kind::BranchLr;
    case C::BranchCtr: return Kind::BranchCtr;
    case C::BranchTar: return Kind::BranchTar;
    case C::Trap: return Kind::Trap;
    case C::LoadReserve: return Kind::LoadReserve;
    case C::StoreConditional: return Kind::StoreConditional;
    case C::Syscall: return Kind::Syscall;
    default: return Kind::Other;
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Hand-parsed rather than std::regex: GCC 12 reports a false
// maybe-uninitialized inside libstdc++'s regex compiler at -O2 -Werror.
// "   24814:\t1d 00 00 48 \tbl      24830 <abort+0x8>"; a suffix line has no tab-text.
std::optional<ListedInsn> parse_line(std::string_view line) {
  size_t p = line.find_first_not_of(" \t");
  if (p == std::string_view::npos) return std::nullopt;
  const size_t colon = line.find(':', p);
  if (colon == std::string_view::npos || colon == p || colon + 1 >= line.size() || line[colon + 1] != '\t') return std::nullopt;
  ListedInsn insn{};
  for (size_t i = p; i < colon; ++i) {
    const int v = hex_digit(line[i]);
    if (v < 0) return std::nullopt;
    insn.address = insn.address * 16 + static_cast<uint64_t>(v);
  }
  p = colon + 2;
  while (p + 3 <= line.size() && hex_digit(line[p]) >= 0 && hex_digit(line[p + 1]) >= 0 && line[p + 2] == ' ') {
    insn.bytes.push_back(static_cast<uint8_t>(hex_digit(line[p]) * 16 + hex_digit(line[p + 1])));
    p += 3;
  }
  if (insn.bytes.empty()) return std::nullopt;
  while (p < line.size() && line[p] == ' ') ++p;
  if (p < line.size()) {
    if (line[p] != '\t') return std::nullopt;
    insn.text = std::string(line.substr(p + 1));
  }
  insn.mnemonic = insn.text.substr(0, insn.text.find_first_of(" \t"));
  return insn;
}

}  // namespace

std::vector<ListedInsn> parse_listing(std::istream& in) {
  std::vector<ListedInsn> out;
  std::string line;
  while (std::getline(in, line)) {
    std::optional<ListedInsn> insn = parse_line(line);
    if (!insn) continue;
    if (insn->text.empty() && !out.empty() && out.back().address + out.back().bytes.size() == insn->address) {
      out.back().bytes.insert(out.back().bytes.end(), insn->bytes.begin(), insn->bytes.end());
      continue;
    }
    out.push_back(std::move(*insn));
  }
  return out;
}

std::string_view to_string(Kind k) {
  switch (k) {
    case Kind::Other: return "other";
    case Kind::Branch: return "b";
    case Kind::BranchCond: return "bc";
    case Kind::BranchLr: return "bclr";
    case Kind::BranchCtr: return "bcctr";
    case Kind::BranchTar: return "bctar";
    case Kind::Trap: return "trap";
    case Kind::LoadReserve: return "larx";
    case Kind::StoreConditional: return "stcx.";
    case Kind::Syscall: return "sc";
  }
  return "?";
}

Kind kind_of_mnemonic(std::string_view m) {
  if (m == "sc" || m == "scv") return Kind::Syscall;
  // l[bhwdq]arx, st[bhwdq]cx.
  if (m.size() == 5 && m[0] == 'l' && std::string_view("bhwdq").find(m[1]) != std::string_view::npos && m.substr(2) == "arx") return Kind::LoadReserve;
  if (m.size() == 6 && m.starts_with("st") && std::string_view("bhwdq").find(m[2]) != std::string_view::npos && m.substr(3) == "cx.") return Kind::StoreConditional;
  // trap, tw, twi, td, tdi and the extended ones (tweq, tdnei, twllt, ...).
  if (m == "trap") return Kind::Trap;
  if (m.size() >= 2 && m[0] == 't' && (m[1] == 'w' || m[1] == 'd')) {
    std::string_view cond = m.substr(2);
    if (cond.ends_with('i')) cond.remove_suffix(1);
    static constexpr std::string_view kConds[] = {"", "lt", "le", "eq", "ge", "gt", "nl", "ne", "ng", "llt", "lle", "lge", "lgt", "lnl", "lng", "u"};
    for (std::string_view c : kConds)
      if (cond == c) return Kind::Trap;
  }
  if (m.empty() || m[0] != 'b') return Kind::Other;
  // Not branches: byte reverse, bit permute, BCD arithmetic.
  if (m == "brd" || m == "brh" || m == "brw" || m == "bpermd" || m.starts_with("bcd") || m == "brinc") return Kind::Other;
  std::string_view b = m;
  if (b.ends_with('+') || b.ends_with('-')) b.remove_suffix(1);
  if (ends_with(b, "lrl") || ends_with(b, "lr")) return Kind::BranchLr;
  if (ends_with(b, "ctrl") || ends_with(b, "ctr")) return Kind::BranchCtr;
  if (ends_with(b, "tarl") || ends_with(b, "tar")) return Kind::BranchTar;
  if (b == "b" || b == "bl" || b == "ba" || b == "bla") return Kind::Branch;
  return Kind::BranchCond;
}

Report compare(const std::vector<ListedInsn>& listing, size_t keep) {
  Report r;
  const arch::Isa* isa = arch::isa_for_elf_machine(21);
  arch::ppc64le::Decoder decoder;
  auto mismatch = [&](uint64_t addr, std::string what) {
    ++r.mismatch_count;
    if (r.mismatches.size() < keep) r.mismatches.push_back({addr, std::move(what)});
  };
  (void)isa;
  size_t i = 0;
  while (i < listing.size()) {
    // One run of contiguous bytes.
    size_t j = i;
    std::vector<uint8_t> code;
    while (j < listing.size() && (j == i || listing[j].address == listing[j - 1].address + listing[j - 1].bytes.size())) {
      code.insert(code.end(), listing[j].bytes.begin(), listing[j].bytes.end());
      ++j;
    }
    const uint64_t start = listing[i].address;
    std::map<uint64_t, std::pair<uint8_t, Kind>> ours;
    for (size_t off = 0; off + 4 <= code.size();) {
      arch::ppc64le::Classified c;
      auto insn = decoder.decode_one(std::span<const uint8_t>(code).subspan(off), RuntimeAddr(start + off), &c);
      if (!insn) break;
      ours[start + off] = {insn->length, kind_of_class(c.cls)};
      off += insn->length;
    }
    for (size_t k = i; k < j; ++k) {
      const ListedInsn& l = listing[k];
      ++r.instructions;
      r.bytes += l.bytes.size();
      auto it = ours.find(l.address);
      if (it == ours.end()) {
        mismatch(l.address, fmt::format("objdump has an instruction here ({}), uptrace does not", l.text));
        continue;
      }
      if (it->second.first != l.bytes.size()) {
        mismatch(l.address, fmt::format("length: objdump {} ({}), uptrace {}", l.bytes.size(), l.text, it->second.first));
        continue;
      }
      ++r.boundaries_agreed;
      if (l.bytes.size() == 8) ++r.prefixed;
      const Kind theirs = kind_of_mnemonic(l.mnemonic);
      if (theirs != it->second.second) {
        mismatch(l.address, fmt::format("class: objdump '{}' is {}, uptrace says {}", l.text, to_string(theirs),
                                        to_string(it->second.second)));
        continue;
      }
      ++r.kinds_agreed[theirs];
    }
    i = j;
  }
  return r;
}

}  // namespace uptrace::tools::ppc64le_check
