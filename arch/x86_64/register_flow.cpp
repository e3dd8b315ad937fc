#include "arch/x86_64/register_flow.h"

#include <algorithm>

#include <fmt/format.h>

#include "arch/x86_64/registers.h"
#include "arch/x86_64/relocate.h"

namespace uptrace::arch::x86_64::jump_analysis {

Flow::Flow(const std::vector<Part>& parts, const ImageReader& image, const ModuleBranches& module) : image_(image) {
  for (const Part& part : parts) {
    for (size_t i = 0; i < part.insns.size(); ++i) at_[part.insns[i].d.insn.address.value] = {&part, i};
    if (!part.insns.empty()) {
      const Decoded& last = part.insns.back().d;
      ranges_.emplace_back(part.start.value, last.insn.address.value + last.insn.length);
    }
  }
  for (const Part& part : parts)
    for (size_t i = 0; i < part.insns.size(); ++i) {
      const Scanned& s = part.insns[i];
      if (is_direct_branch(s.cls)) {
        const uint64_t to = relative_branch_target(s.d);
        if (within(to) && !at_.count(to)) misaligned_ = to;
        branches_.emplace(to, Loc{&part, i});
      }
      if (s.d.mnemonic == "lea" && s.d.rip_relative()) taken_.insert(rip_target(s.d, s.d.insn.address));
    }
  for (const auto& [to, from] : module)
    if (within(to) && !within(from)) {
      // Mid-instruction, it runs bytes the walk never decoded.
      if (!at_.count(to)) misaligned_ = to;
      outside_.insert(to);
    }
  entry_ = parts.empty() || parts[0].insns.empty() ? 0 : parts[0].insns[0].d.insn.address.value;
}

void Flow::add_cases(const Loc& jmp, const std::vector<uint64_t>& cases) {
  for (uint64_t to : cases) {
    if (within(to) && !at_.count(to)) misaligned_ = to;
    cases_.emplace(to, jmp);
  }
}

std::string Flow::holds(const Loc& load, unsigned reg, uint64_t table) const {
  if (misaligned_)
    return fmt::format("a branch or case lands at {:#x}, not where an instruction starts", *misaligned_);
  constexpr size_t kMaxWalk = 20000;
  std::vector<Loc> work{load};
  std::set<uint64_t> seen{load.at()};
  while (!work.empty()) {
    const Loc x = work.back();
    work.pop_back();
    const uint64_t a = x.at();
    if (a == entry_) return "the function's entry reaches it";
    if (outside_.count(a)) return fmt::format("a branch from elsewhere in the module lands at {}", x.part->where(a));
    if (taken_.count(a) || image_.pointer_into(RuntimeAddr(a - 1), RuntimeAddr(a + 1)) != false)
      return fmt::format("an indirect jump may enter at {}, whose address is taken or stored", x.part->where(a));
    std::vector<Loc> preds;
    if (x.i > 0) {
      const Loc before{x.part, x.i - 1};
      const Decoded& b = before.insn().d;
      if (b.insn.address.value + b.insn.length != a)
        return fmt::format("the code before {} cannot be decoded", x.part->where(a));
      if (falls_through(before.insn())) preds.push_back(before);
    }
    for (auto [it, end] = branches_.equal_range(a); it != end; ++it) preds.push_back(it->second);
    for (auto [it, end] = cases_.equal_range(a); it != end; ++it) preds.push_back(it->second);
    // None: padding between blocks, or code after a call that does not
    // return; every way in has been looked for above.
    for (const Loc& p : preds) {
      const Scanned& s = p.insn();
      if (writes(s) >> reg & 1) {
        if (s.d.mnemonic == "lea" && s.d.operands.size() == 2 && is_reg(s.d.operands[0], reg) && s.d.rip_relative() &&
            rip_target(s.d, s.d.insn.address) == table)
          continue;  // this path loads the table
        return fmt::format("{} is written at {}", gpr_name(reg), p.part->where(p.at()));
      }
      if ((s.cls == InsnClass::CallRel || s.cls == InsnClass::CallIndirect) && (kCallerSaved >> reg & 1))
        return fmt::format("the call at {} may change {}", p.part->where(p.at()), gpr_name(reg));
      if (seen.insert(p.at()).second) {
        if (seen.size() > kMaxWalk) return "its paths are too many to follow";
        work.push_back(p);
      }
    }
  }
  return {};
}

bool Flow::within(uint64_t at) const {
  return std::any_of(ranges_.begin(), ranges_.end(), [&](const auto& r) { return at >= r.first && at < r.second; });
}

}  // namespace uptrace::arch::x86_64::jump_analysis
