#include "arch/x86_64/switch_table.h"

#include <algorithm>
#include <array>
#include <deque>
#include <set>
#include <string_view>
#include <tuple>

#include <fmt/format.h>

#include "arch/x86_64/registers.h"
#include "arch/x86_64/relocate.h"

namespace uptrace::arch::x86_64::jump_analysis {
namespace {

// A jump table longer than this is not read: no switch GCC emits for code
// this tool probes comes near it, and its proof would be a large read.
constexpr uint64_t kMaxTableEntries = 4096;

// How far before the table load the bound and the table's base are looked for.
constexpr size_t kMaxIdiomLength = 12;

// An unsigned "index above the bound" branch: ja (77, 0f 87) or jae (73, 0f 83).
std::optional<bool> above_bound(const Scanned& s) {
  if (s.cls != InsnClass::Jcc) return std::nullopt;
  const uint8_t cc = s.d.enc.opcode & 0x0f;
  if (cc == 0x7) return true;   // ja: idx <= imm passes
  if (cc == 0x3) return false;  // jae: idx < imm passes
  return std::nullopt;
}

// Whether insns[k] adds a table's entry, just loaded, to the table's base:
// `movsxd r, dword [base + idx*4]` then `add r, base` (or `lea r, [r + base]`).
// The result is a code address only a switch's bound makes safe.
// `add sum, base` (then sum is also the entry) or `lea sum, [entry + base]`,
// all 64-bit: the registers it adds.
struct Sum {
  unsigned sum = 0, entry = 0, base = 0;
};

std::optional<Sum> sum_of_two(const Decoded& add) {
  if (add.operands.size() != 2 || add.operands[0].kind != Operand::Kind::Register || add.operands[0].size != 8)
    return std::nullopt;
  const auto sum = family(add.operands[0]);
  std::optional<unsigned> entry, base;
  if (add.mnemonic == "add" && add.operands[1].size == 8) {
    entry = sum;
    base = family(add.operands[1]);
  } else if (add.mnemonic == "lea" && add.operands[1].kind == Operand::Kind::Memory && add.operands[1].value == 0 &&
             add.operands[1].scale == 1 && add.operands[1].segment.empty()) {
    base = gpr_number(add.operands[1].reg);
    entry = gpr_number(add.operands[1].index);
  }
  if (!sum || !entry || !base || *entry == *base) return std::nullopt;
  return Sum{*sum, *entry, *base};
}

// Whether s only compares (sets flags, writes no register): what GCC may
// schedule between a switch's add and its jmp for the code at the cases.
bool compares_only(const Scanned& s) {
  return s.cls == InsnClass::Plain && (s.d.mnemonic == "cmp" || s.d.mnemonic == "test") && writes(s) == 0;
}

// Instructions between a bound's cmp and its ja, or a memory bound's cmp and
// the index's load from the same memory: register moves, which set no flags
// and store nothing.
bool moves_register(const Scanned& s) {
  static constexpr std::array<std::string_view, 5> kMoves{"mov", "movzx", "movsx", "movsxd", "lea"};
  return s.cls == InsnClass::Plain && s.d.operands.size() == 2 && s.d.operands[0].kind == Operand::Kind::Register &&
         std::find(kMoves.begin(), kMoves.end(), s.d.mnemonic) != kMoves.end() &&
         (writes(s) & ~(family(s.d.operands[0]) ? 1u << *family(s.d.operands[0]) : 0u)) == 0;
}

bool same_memory(const Operand& a, const Operand& b) {
  return a.kind == Operand::Kind::Memory && b.kind == Operand::Kind::Memory && a.reg == b.reg && a.index == b.index &&
         a.scale == b.scale && a.value == b.value && a.size == b.size && a.segment == b.segment && a.reg != "rip";
}

// A table of one entry, at a fixed place (`movsxd r, dword [rip + T]`;
// `lea b, [rip + T]`; `add r, b`; jmp r: glibc's __res_context_query): the
// jump always goes to the one target it holds.
std::optional<Table> fixed_entry(const std::vector<Scanned>& insns, size_t sum_at, unsigned target) {
  const auto two = sum_of_two(insns[sum_at].d);
  if (!two || two->sum != target || two->entry != two->sum) return std::nullopt;
  std::optional<uint64_t> base, entry;
  uint64_t lea_at = 0;
  size_t load_at = 0, i = sum_at;
  while (i > 0 && sum_at - i < 4 && !(base && entry)) {
    --i;
    const Scanned& s = insns[i];
    const Decoded& d = s.d;
    if (!adjacent(s, insns[i + 1])) return std::nullopt;
    if (!base && d.mnemonic == "lea" && d.operands.size() == 2 && is_reg(d.operands[0], two->base) &&
        d.rip_relative()) {
      base = rip_target(d, d.insn.address);
      lea_at = d.insn.address.value;
    } else if (!entry && d.mnemonic == "movsxd" && d.operands.size() == 2 && is_reg(d.operands[0], two->entry) &&
               d.operands[1].size == 4 && d.rip_relative() && d.operands[1].index.empty() &&
               d.operands[1].segment.empty()) {
      entry = rip_target(d, d.insn.address);
      load_at = i;
    } else {
      const auto written = family(d.operands.empty() ? Operand{} : d.operands[0]);
      if (!writes_only_first_operand(s) || !written || *written == two->base || *written == two->entry)
        return std::nullopt;
    }
  }
  if (!base || !entry || *base != *entry) return std::nullopt;
  return Table{base, two->base, 1, insns[i].d.insn.address.value, std::nullopt, 0, lea_at, load_at, sum_at};
}

// How far back from an indirect jump, and over how many paths in all, the
// walk for a table its target is computed from looks.
constexpr size_t kMaxTableWalkDepth = 24;

constexpr size_t kMaxTableWalkStates = 4096;

}  // namespace

bool adds_table_entry(const std::vector<Scanned>& insns, size_t k, unsigned* entry_out,
                      unsigned* base_out) {
  if (k == 0) return false;
  const auto two = sum_of_two(insns[k].d);
  if (!two) return false;
  const Decoded& load = insns[k - 1].d;
  if (load.mnemonic != "movsxd" || load.operands.size() != 2 || !is_reg(load.operands[0], two->entry) ||
      load.operands[1].kind != Operand::Kind::Memory || load.operands[1].size != 4 || load.operands[1].scale != 4 ||
      // A displacement would read the entries from elsewhere than the base
      // they are added to, where read_cases() does not look.
      load.operands[1].value != 0 || !load.operands[1].segment.empty() ||
      gpr_number(load.operands[1].reg) != two->base || !gpr_number(load.operands[1].index))
    return false;
  if (!adjacent(insns[k - 1], insns[k])) return false;
  if (entry_out) *entry_out = two->sum;
  if (base_out) *base_out = two->base;
  return true;
}

std::optional<Table> switch_table(const std::vector<Scanned>& insns, size_t k, std::string& why_not,
                                  const HoistedBase& hoisted) {
  why_not.clear();
  const Decoded& jmp = insns[k].d;
  if (jmp.operands.size() != 1 || k < 2) return std::nullopt;
  const auto target = family(jmp.operands[0]);
  if (!target || jmp.operands[0].size != 8) return std::nullopt;
  size_t sum_at = k - 1;
  while (sum_at > 1 && compares_only(insns[sum_at]) && adjacent(insns[sum_at], insns[sum_at + 1])) --sum_at;
  if (!adjacent(insns[sum_at], insns[sum_at + 1])) return std::nullopt;
  unsigned sum = 0, base_family = 0;
  if (!adds_table_entry(insns, sum_at, &sum, &base_family) || sum != *target) return fixed_entry(insns, sum_at, *target);
  const std::optional<unsigned> base_reg = base_family;
  const size_t load_at = sum_at - 1;
  const Decoded& load = insns[load_at].d;
  unsigned index = *gpr_number(load.operands[1].index);
  // The index bounded, then made the table's address by the base's lea, is
  // no bound at all.
  if (index == *base_reg) return std::nullopt;
  // Back from the load: the table's base (lea base, [rip + table]) and the
  // bound (cmp index, imm; ja/jae), in either order. The bound may be on
  // a narrower part of the index (cmp al, 12): the compiler zero-extends
  // what it compares, and its index never exceeds it.
  why_not = "whose jump table's bound or base was not found right before it (a cmp and ja, and a lea of the table)";
  std::optional<uint64_t> base, entries;
  std::optional<Operand> bounded;
  // The memory the index was loaded from (`mov eax, dword [rbx + 8]`), whose
  // bound is then a cmp of that memory (dlinfo_doit's `cmp dword [rbx + 8], 11`).
  std::optional<Operand> index_memory;
  auto traced = [&] {
    if (entries) return 0u;
    return index_memory ? unsigned{address_registers(*index_memory)} : 1u << index;
  };
  uint64_t after_bound = 0, lea_at = 0;
  size_t i = load_at;
  while (i > 0 && k - i < kMaxIdiomLength && !(base && entries)) {
    --i;
    // An instruction Capstone 4 cannot decode, not listed, may be between.
    if (!adjacent(insns[i], insns[i + 1])) {
      if (!entries) return std::nullopt;
      ++i;
      break;
    }
    const Scanned& s = insns[i];
    const Decoded& d = s.d;
    if (!base && d.mnemonic == "lea" && d.operands.size() == 2 && is_reg(d.operands[0], *base_reg) &&
        d.rip_relative()) {
      base = rip_target(d, d.insn.address);
      lea_at = d.insn.address.value;
      continue;
    }
    if (!entries && !index_memory) {
      // mov index32, dword [mem]: zero-extended, it is what mem holds.
      if (d.mnemonic == "mov" && d.operands.size() == 2 && family(d.operands[0]) == index && d.operands[0].size == 4 &&
          d.operands[1].kind == Operand::Kind::Memory && d.operands[1].size == 4 && !d.rip_relative() &&
          d.operands[1].segment.empty() && !(address_registers(d.operands[1]) >> *base_reg & 1)) {
        index_memory = d.operands[1];
        continue;
      }
    }
    if (!entries && !index_memory) {
      // movzx index, byte [mem]: whatever the memory holds, the index is at
      // most 255, so the 256 entries from the base are all it can read
      // (GCC drops the cmp when the case values cover a byte's range).
      if (d.mnemonic == "movzx" && d.operands.size() == 2 && family(d.operands[0]) == index &&
          d.operands[0].size >= 4 && d.operands[1].kind == Operand::Kind::Memory && d.operands[1].size == 1) {
        entries = 256;
        continue;
      }
    }
    if (!entries) {
      if (auto ja = above_bound(s)) {
        // Back to the cmp over register moves that leave what it compared
        // alone (__spawni_child's `mov r14, rcx`), each adjacent in the code,
        // not only in the list: decode_part steps over instructions
        // Capstone 4 cannot decode without listing them.
        size_t c = i;
        while (c > 0 && adjacent(insns[c - 1], insns[c]) && moves_register(insns[c - 1]) &&
               !(writes(insns[c - 1]) & traced()))
          --c;
        if (c == 0 || !adjacent(insns[c - 1], insns[c])) return std::nullopt;
        const Decoded& cmp = insns[c - 1].d;
        const bool compares_index = index_memory ? same_memory(cmp.operands.empty() ? Operand{} : cmp.operands[0],
                                                               *index_memory)
                                                 : family(cmp.operands.empty() ? Operand{} : cmp.operands[0]) == index;
        if (cmp.mnemonic != "cmp" || cmp.operands.size() != 2 || !compares_index ||
            cmp.operands[1].kind != Operand::Kind::Immediate || cmp.operands[1].value < 0)
          return std::nullopt;
        const uint64_t bound = static_cast<uint64_t>(cmp.operands[1].value);
        entries = *ja ? bound + 1 : bound;
        bounded = cmp.operands[0];
        after_bound = d.insn.address.value + d.insn.length;
        i = c - 1;  // the cmp
        continue;
      }
    }
    if (!entries && !index_memory) {
      // mov/movzx index, other: the bound was checked on the other register.
      if ((d.mnemonic == "mov" || d.mnemonic == "movzx") && d.operands.size() == 2 && family(d.operands[0]) == index &&
          (d.operands[0].size == 8 || d.operands[0].size == 4) &&
          (d.mnemonic == "movzx" || d.operands[1].size == d.operands[0].size)) {
        auto from = family(d.operands[1]);
        if (!from || *from == *base_reg) return std::nullopt;
        index = *from;
        continue;
      }
    }
    // Anything else must leave the registers still being traced alone.
    const auto written = family(d.operands.empty() ? Operand{} : d.operands[0]);
    if (!writes_only_first_operand(s) || !written || (!base && *written == *base_reg) || (traced() >> *written & 1)) {
      if (!entries) return std::nullopt;
      ++i;  // bounded: the base may be the function's one table address (below)
      break;
    }
  }
  if (!entries) return std::nullopt;
  if (!base) base = hoisted(*base_reg);
  if (*entries > kMaxTableEntries) {
    why_not = fmt::format("whose jump table has {} entries, more than uptrace reads ({})", *entries, kMaxTableEntries);
    return std::nullopt;
  }
  return Table{base, *base_reg, *entries, insns[i].d.insn.address.value, bounded, after_bound, lea_at, load_at, sum_at};
}

std::optional<std::vector<uint64_t>> read_cases(const ImageReader& image, uint64_t base, uint64_t entries) {
  std::vector<uint8_t> bytes(entries * 4);
  if (!image.read(RuntimeAddr(base), bytes)) return std::nullopt;
  std::vector<uint64_t> cases;
  cases.reserve(entries);
  for (uint64_t i = 0; i < entries; ++i) {
    int32_t rel = 0;
    for (int b = 3; b >= 0; --b) rel = static_cast<int32_t>(static_cast<uint32_t>(rel) << 8 | bytes[4 * i + b]);
    cases.push_back(base + static_cast<uint64_t>(static_cast<int64_t>(rel)));
  }
  return cases;
}

std::optional<Loc> computed_from_table(const Loc& jmp, const std::multimap<uint64_t, Loc>& branches) {
  const Decoded& j = jmp.insn().d;
  if (j.operands.size() != 1) return std::nullopt;
  const Operand& target = j.operands[0];
  uint16_t start = 0;
  if (target.kind == Operand::Kind::Register) {
    const auto n = gpr_number(target.reg);
    if (!n) return std::nullopt;
    start = static_cast<uint16_t>(1u << *n);
  } else if (target.kind == Operand::Kind::Memory) {
    return std::nullopt;  // an address stored in memory
  }
  auto gpr_bit = [](const std::string& name) -> uint16_t {
    const auto n = gpr_number(name);
    return n ? static_cast<uint16_t>(1u << *n) : 0;
  };
  auto address_regs = [&](const Operand& op) -> uint16_t {
    return op.kind == Operand::Kind::Memory ? static_cast<uint16_t>(gpr_bit(op.reg) | gpr_bit(op.index)) : 0;
  };
  struct State {
    Loc at;  // the instruction before which `tracked` flow into the target
    uint16_t tracked;
    bool computed;  // arithmetic is applied on the way to the jump
    size_t depth;
  };
  std::deque<State> work;  // breadth first: each state first seen at its least depth
  std::set<std::tuple<uint64_t, uint16_t, bool>> seen;
  auto push_preds = [&](const State& st) {
    if (st.depth >= kMaxTableWalkDepth || st.tracked == 0) return;
    const uint64_t a = st.at.at();
    auto add = [&](const Loc& p) {
      if (seen.size() > kMaxTableWalkStates) return;
      if (seen.emplace(p.at(), st.tracked, st.computed).second) work.push_back({p, st.tracked, st.computed, st.depth + 1});
    };
    if (st.at.i > 0) {
      const Loc before{st.at.part, st.at.i - 1};
      const Decoded& b = before.insn().d;
      if (b.insn.address.value + b.insn.length == a && falls_through(before.insn())) add(before);
    }
    for (auto [it, end] = branches.equal_range(a); it != end; ++it) add(it->second);
  };
  push_preds({jmp, start, false, 0});
  while (!work.empty()) {
    State st = work.front();
    work.pop_front();
    const Scanned& s = st.at.insn();
    const Decoded& d = s.d;
    const uint16_t written = writes(s);
    if (!(written & st.tracked)) {
      push_preds(st);
      continue;
    }
    const Operand* dst = d.operands.empty() ? nullptr : &d.operands[0];
    const uint16_t dst_bit = dst && dst->kind == Operand::Kind::Register ? gpr_bit(dst->reg) : 0;
    const std::string& m = d.mnemonic;
    const bool load = (m == "mov" || m == "movsxd" || m == "movsx" || m == "movzx") && d.operands.size() == 2 &&
                      dst_bit && d.operands[1].kind == Operand::Kind::Memory;
    if (load) {
      if (st.computed) return st.at;
      st.tracked &= static_cast<uint16_t>(~dst_bit);  // a stored address, jumped to unchanged
    } else if ((m == "mov" || m == "movsxd" || m == "movsx" || m == "movzx") && d.operands.size() == 2 && dst_bit &&
               d.operands[1].kind == Operand::Kind::Register && written == dst_bit) {
      st.tracked = static_cast<uint16_t>((st.tracked & ~dst_bit) | gpr_bit(d.operands[1].reg));
      if (m != "mov") st.computed = true;
    } else if (m == "lea" && d.operands.size() == 2 && dst_bit && written == dst_bit) {
      st.tracked &= static_cast<uint16_t>(~dst_bit);
      if (!d.rip_relative()) {
        st.tracked |= address_regs(d.operands[1]);
        st.computed = true;
      }
    } else if ((m == "xor" || m == "sub") && d.operands.size() == 2 && dst_bit &&
               d.operands[1].kind == Operand::Kind::Register && d.operands[1].reg == dst->reg) {
      st.tracked &= static_cast<uint16_t>(~dst_bit);  // zeroed
    } else if (s.cls == InsnClass::CallRel || s.cls == InsnClass::CallIndirect) {
      st.tracked &= static_cast<uint16_t>(~written);  // a returned value: stored somewhere
    } else {
      const bool sum = m == "add" || m == "sub" || m == "adc" || m == "sbb";
      // An add of memory is a table's entry added as it is loaded.
      if (sum && d.operands.size() == 2 && d.operands[1].kind == Operand::Kind::Memory) return st.at;
      // Anything else computes what it writes from what it reads (over-
      // approximated by what it accesses). Only a sum makes a stored value
      // another address: a pointer demangled (ror, xor) is still one taken
      // somewhere.
      st.tracked |= static_cast<uint16_t>(d.gprs_accessed & ~(1u << 4));  // but rsp
      if (sum) st.computed = true;
    }
    push_preds(st);
  }
  return std::nullopt;
}

}  // namespace uptrace::arch::x86_64::jump_analysis
