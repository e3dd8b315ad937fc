#include "arch/x86_64/jump_targets.h"

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "arch/x86_64/decoder.h"
#include "arch/x86_64/encoding.h"
#include "arch/x86_64/insn_table.h"
#include "arch/x86_64/registers.h"
#include "arch/x86_64/register_flow.h"
#include "arch/x86_64/relocate.h"
#include "arch/x86_64/switch_table.h"

namespace uptrace::arch::x86_64 {

using namespace jump_analysis;

std::string branch_into(const Decoder& decoder, const SiteContext& ctx, uint64_t lo, uint64_t hi) {
  std::vector<Part> parts;
  std::string why_not;
  auto function = decode_part(decoder, ctx.function_start, ctx.function_code, false, why_not);
  if (!function) return why_not;
  parts.push_back(std::move(*function));
  for (const CodePart& p : ctx.other_parts) {
    auto part = decode_part(decoder, p.start, p.code, true, why_not);
    if (!part) return why_not;
    parts.push_back(std::move(*part));
  }
  auto inside = [&](uint64_t at) { return at > lo && at < hi; };

  // Every direct branch's target: none may be inside, and none may enter a
  // switch idiom past its bound check.
  std::set<uint64_t> targets;
  for (const Part& part : parts)
    for (const Scanned& s : part.insns) {
      if (!is_direct_branch(s.cls)) continue;
      const uint64_t target = relative_branch_target(s.d);
      if (inside(target))
        return fmt::format("the {} at {} lands inside the bytes a jump would overwrite", s.d.mnemonic,
                           part.where(s.d.insn.address.value));
      targets.insert(target);
    }

  // A branch from elsewhere in the module: hand-written assembly enters
  // other functions' middles.
  if (ctx.image) {
    auto branches = module_branches(decoder, *ctx.image);
    auto it = std::upper_bound(branches->begin(), branches->end(), std::pair{lo, UINT64_MAX});
    if (it != branches->end() && it->first < hi)
      return fmt::format("a branch at {:#x}, elsewhere in the module, lands inside the bytes a jump would overwrite",
                         it->second);
  }

  // A code address taken in the function (labels as values) that is inside.
  for (const Part& part : parts)
    for (const Scanned& s : part.insns)
      if (s.d.mnemonic == "lea" && s.d.rip_relative() && inside(rip_target(s.d, s.d.insn.address)))
        return fmt::format("the lea at {} takes the address of a place inside the bytes a jump would overwrite",
                           part.where(s.d.insn.address.value));

  // Indirect jumps: a switch's targets are its table's entries; any other
  // jump goes to an address stored somewhere or computed, and a position-
  // independent module stores every code address with a relocation, takes
  // one in its code with a rip-relative lea, or computes one from a
  // relative table (a switch's idiom, checked at each place it occurs). So
  // when no relocation's value, no lea in the function and no table entry
  // is inside, no indirect jump can land there. (As for direct branches,
  // the code of other functions is taken not to enter this one's middle.)
  const HoistedBase hoisted = [&](unsigned reg) -> std::optional<uint64_t> {
    std::optional<uint64_t> table;
    for (const Part& part : parts) {
      if (part.gaps) return std::nullopt;  // kmovd eax, k0 writes a register unseen
      for (const Scanned& s : part.insns) {
        if (!(writes(s) >> reg & 1)) continue;
        if (s.d.mnemonic == "pop" && s.d.operands.size() == 1 && is_reg(s.d.operands[0], reg)) continue;
        if (s.d.mnemonic != "lea" || s.d.operands.size() != 2 || !is_reg(s.d.operands[0], reg) || !s.d.rip_relative())
          return std::nullopt;
        const uint64_t t = rip_target(s.d, s.d.insn.address);
        if (table && *table != t) return std::nullopt;
        table = t;
      }
    }
    return table;
  };
  struct Switch {
    Loc jmp;
    Table table;
    std::vector<uint64_t> cases;  // read once the base is known
  };
  std::vector<Switch> switches;
  std::optional<std::pair<const Part*, uint64_t>> other_jump;
  std::multimap<uint64_t, Loc> branches;  // the parts' direct branches, by target
  for (const Part& part : parts)
    for (size_t i = 0; i < part.insns.size(); ++i)
      if (is_direct_branch(part.insns[i].cls)) branches.emplace(relative_branch_target(part.insns[i].d), Loc{&part, i});
  for (const Part& part : parts)
    for (size_t k = 0; k < part.insns.size(); ++k) {
      if (part.insns[k].cls != InsnClass::JmpIndirect) continue;
      const uint64_t at = part.insns[k].d.insn.address.value;
      auto unknown = [&](const std::string& why) {
        return fmt::format("the function has an indirect jump at {} {}", part.where(at), why);
      };
      auto table = switch_table(part.insns, k, why_not, hoisted);
      if (!table && why_not.empty()) {
        // A target computed from a table no switch idiom bounds (a computed
        // goto's, or a switch in another shape) may be anywhere.
        if (auto load = computed_from_table(Loc{&part, k}, branches))
          return fmt::format("an indirect jump at {} computes its target from a table uptrace cannot bound (loaded at "
                             "{})",
                             part.where(at), load->part->where(load->at()));
        if (!other_jump) other_jump = {&part, at};
        continue;
      }
      if (!table) return unknown(why_not);
      if (!ctx.image) return unknown("whose jump table cannot be read (the module's bytes are not known)");
      Switch sw{{&part, k}, *table, {}};
      if (table->base) {
        auto cases = read_cases(*ctx.image, *table->base, table->entries);
        if (!cases) return unknown(fmt::format("whose jump table at {:#x} cannot be read", *table->base));
        sw.cases = std::move(*cases);
      }
      switches.push_back(std::move(sw));
    }

  // Bases loaded in an earlier block (before a loop, in a dominating
  // block): each must be proven on every path to its load, all at once,
  // since each one's cases are paths of the others.
  std::vector<Switch*> pending;
  for (Switch& sw : switches)
    if (!sw.table.base) pending.push_back(&sw);
  if (!pending.empty()) {
    auto unknown = [&](const Switch& sw, const std::string& why) {
      return fmt::format("the function has an indirect jump at {} whose jump table's base is not loaded right before "
                         "it, and {}",
                         sw.jmp.part->where(sw.jmp.at()), why);
    };
    // The unwinder enters a landing pad with only the callee-saved
    // registers of the call that threw: paths no branch shows.
    std::vector<std::pair<RuntimeAddr, size_t>> extents{{ctx.function_start, ctx.function_code.size()}};
    for (const CodePart& p : ctx.other_parts) extents.emplace_back(p.start, p.code.size());
    for (const auto& [start, size] : extents) {
      const auto pads = ctx.image->landing_pads_in(start, start + size);
      if (!pads) return unknown(*pending[0], "whether the function has landing pads is not known");
      if (*pads) return unknown(*pending[0], "the function has landing pads, which the unwinder enters unseen");
    }
    // The candidate tables: what a rip-relative lea of the base register loads.
    std::vector<std::vector<uint64_t>> candidates;
    // The nearest lea before the switch first: most likely the one, whose
    // failure is then the one worth reporting.
    for (Switch* sw : pending) {
      std::vector<uint64_t> found;
      for (const Part& part : parts)
        for (const Scanned& s : part.insns)
          if (s.d.mnemonic == "lea" && s.d.operands.size() == 2 && is_reg(s.d.operands[0], sw->table.base_reg) &&
              s.d.rip_relative()) {
            const uint64_t t = rip_target(s.d, s.d.insn.address);
            if (&part == sw->jmp.part && s.d.insn.address.value < sw->jmp.at()) {
              std::erase(found, t);
              found.insert(found.begin(), t);
            } else if (std::find(found.begin(), found.end(), t) == found.end()) {
              found.push_back(t);
            }
          }
      if (found.empty()) return unknown(*sw, fmt::format("no lea in the function loads {}", gpr_name(sw->table.base_reg)));
      candidates.push_back(std::move(found));
    }
    if (!ctx.image->functions_complete())
      return unknown(*pending[0], "the module has no symbol table (.symtab), so not every branch into the function "
                                  "from elsewhere can be seen");
    auto module = module_branches(decoder, *ctx.image);
    // Each combination of candidates, a few at most; the first that holds
    // on every path is the only one that can.
    constexpr size_t kMaxCombinations = 16;
    std::vector<size_t> pick(pending.size(), 0);
    std::string why;
    for (size_t round = 0; round < kMaxCombinations; ++round) {
      Flow flow(parts, *ctx.image, *module);
      for (const Switch& sw : switches)
        if (sw.table.base) flow.add_cases(sw.jmp, sw.cases);
      std::vector<std::vector<uint64_t>> assumed(pending.size());
      bool readable = true;
      for (size_t j = 0; j < pending.size() && readable; ++j) {
        auto cases = read_cases(*ctx.image, candidates[j][pick[j]], pending[j]->table.entries);
        if (!cases) {
          if (why.empty())
            why = unknown(*pending[j], fmt::format("its table at {:#x} cannot be read", candidates[j][pick[j]]));
          readable = false;
          break;
        }
        assumed[j] = std::move(*cases);
        flow.add_cases(pending[j]->jmp, assumed[j]);
      }
      bool all = readable;
      for (size_t j = 0; j < pending.size() && all; ++j) {
        const Switch& sw = *pending[j];
        const Loc load{sw.jmp.part, sw.table.load_at};
        if (auto no = flow.holds(load, sw.table.base_reg, candidates[j][pick[j]]); !no.empty()) {
          if (why.empty())  // the first combination's reason: the others' are less likely ones
            why = unknown(sw, fmt::format("{} may not hold the table's address there: {}", gpr_name(sw.table.base_reg), no));
          all = false;
        }
      }
      if (all) {
        for (size_t j = 0; j < pending.size(); ++j) {
          pending[j]->table.base = candidates[j][pick[j]];
          pending[j]->cases = std::move(assumed[j]);
        }
        break;
      }
      // The next combination, odometer-wise.
      size_t j = 0;
      while (j < pick.size() && ++pick[j] == candidates[j].size()) pick[j++] = 0;
      if (j == pick.size()) break;
    }
    if (!pending[0]->table.base) return why;
  }

  // Every switch's cases; none may land inside, nor past a switch's bound
  // check into its idiom (where it could arrive with another index or base).
  std::set<uint64_t> proven_sums;  // table-entry additions that are a proven switch's
  std::set<uint64_t> cases;
  for (const Switch& sw : switches) cases.insert(sw.cases.begin(), sw.cases.end());
  // A branch to right after the bound check is harmless when it is a jbe
  // or jb whose own cmp checks the same operand against no larger bound
  // (GCC repeats the check on a second path into the switch, as iconv's),
  // nothing else enters between that cmp and its branch, and the base is
  // loaded after the branch lands (or is proven on every path).
  const auto module = ctx.image ? module_branches(decoder, *ctx.image) : std::make_shared<const ModuleBranches>();
  auto in_parts = [&](uint64_t at) {
    if (at >= ctx.function_start.value && at - ctx.function_start.value < ctx.function_code.size()) return true;
    return std::any_of(ctx.other_parts.begin(), ctx.other_parts.end(),
                       [&](const CodePart& p) { return at >= p.start.value && at - p.start.value < p.code.size(); });
  };
  // The first branch from outside the function and its parts that lands in (lo, hi].
  auto from_outside = [&](uint64_t lo, uint64_t hi) -> std::optional<std::pair<uint64_t, uint64_t>> {
    for (auto t = std::upper_bound(module->begin(), module->end(), std::pair{lo, UINT64_MAX});
         t != module->end() && t->first <= hi; ++t)
      if (!in_parts(t->second)) return *t;
    return std::nullopt;
  };
  auto checked_again = [&](const Table& table, uint64_t t) {
    if (!table.bounded || table.bounded->kind != Operand::Kind::Register || t != table.after_bound ||
        (table.lea_at && table.lea_at < t))
      return false;
    bool any = false;
    for (const Part& p : parts)
      for (size_t k = 0; k < p.insns.size(); ++k) {
        const Scanned& s = p.insns[k];
        if (!is_direct_branch(s.cls) || relative_branch_target(s.d) != t) continue;
        // The first instruction of a part has no cmp before it.
        if (k == 0) return false;
        const uint8_t cc = s.d.enc.opcode & 0x0f;
        const Decoded& cmp = p.insns[k - 1].d;
        if (s.cls != InsnClass::Jcc || (cc != 0x6 && cc != 0x2) || cmp.mnemonic != "cmp" ||
            cmp.insn.address.value + cmp.insn.length != s.d.insn.address.value ||
            cmp.operands.size() != 2 || cmp.operands[0].kind != Operand::Kind::Register ||
            cmp.operands[0].reg != table.bounded->reg || cmp.operands[0].size != table.bounded->size ||
            cmp.operands[1].kind != Operand::Kind::Immediate || cmp.operands[1].value < 0 ||
            static_cast<uint64_t>(cmp.operands[1].value) + (cc == 0x6 ? 1 : 0) > table.entries ||
            targets.count(s.d.insn.address.value) || cases.count(s.d.insn.address.value) ||
            from_outside(s.d.insn.address.value - 1, s.d.insn.address.value))
          return false;
        any = true;
      }
    return any;
  };
  for (const Switch& sw : switches) {
    const Part& part = *sw.jmp.part;
    const uint64_t at = sw.jmp.at();
    auto unknown = [&](const std::string& why) {
      return fmt::format("the function has an indirect jump at {} {}", part.where(at), why);
    };
    for (size_t i = 0; i < sw.cases.size(); ++i)
      if (inside(sw.cases[i]))
        return fmt::format("case {} of the switch at {} lands inside the bytes a jump would overwrite", i,
                           part.where(at));
    for (auto t = targets.upper_bound(sw.table.first); t != targets.end() && *t <= at; ++t)
      if (!checked_again(sw.table, *t))
        return unknown(fmt::format("whose jump table's bound check can be bypassed (a branch lands at {})",
                                   part.where(*t)));
    if (auto t = cases.upper_bound(sw.table.first); t != cases.end() && *t <= at)
      return unknown(fmt::format("whose jump table's bound check can be bypassed (a switch's case lands at {})",
                                 part.where(*t)));
    if (auto t = from_outside(sw.table.first, at))
      return unknown(fmt::format("whose jump table's bound check can be bypassed (a branch at {:#x} lands at {})",
                                 t->second, part.where(t->first)));
    proven_sums.insert(part.insns[sw.table.sum_at].d.insn.address.value);
  }
  if (!other_jump) return {};
  const auto& [jump_part, jump_at] = *other_jump;
  auto unknown = [&](const std::string& why) {
    return fmt::format("the function has an indirect jump at {} whose targets are unknown{}", jump_part->where(jump_at),
                       why);
  };
  for (const Part& part : parts)
    for (size_t k = 0; k < part.insns.size(); ++k)
      if (adds_table_entry(part.insns, k) && !proven_sums.count(part.insns[k].d.insn.address.value))
        return unknown(fmt::format(": a table entry is added to its base at {}, a switch uptrace cannot bound",
                                   part.where(part.insns[k].d.insn.address.value)));
  if (!ctx.image) return unknown(" (the module's bytes are not known)");
  const std::optional<bool> stored = ctx.image->pointer_into(RuntimeAddr(lo), RuntimeAddr(hi));
  if (!stored)
    return unknown(" (the module is not position-independent, so the code addresses it stores cannot be told apart)");
  if (*stored) return unknown(": the module stores an address inside the bytes a jump would overwrite");
  return {};
}

}  // namespace uptrace::arch::x86_64
