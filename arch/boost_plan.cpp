#include "arch/boost_plan.h"

namespace uptrace::arch {

BoostPlan::BoostPlan(std::vector<uint8_t> code, std::vector<Landing> landings, RuntimeAddr slot, size_t pc_word,
                     std::string description)
    : code_(std::move(code)),
      landings_(std::move(landings)),
      slot_(slot),
      pc_word_(pc_word),
      description_(std::move(description)) {}

HitAction BoostPlan::begin_hit(Regs& regs, MemoryAccess&, StepState&) const {
  regs.words[pc_word_] = slot_.value;
  return HitAction::Resume;
}

// A boosted hit never single-steps, so there is no step to finish or abort:
// the core steps a thread out of the slot instead (see original_pc).
void BoostPlan::finish_step(Regs&, MemoryAccess&, const StepState&) const {}
void BoostPlan::abort_step(Regs& regs, const StepState&) const { regs.words[pc_word_] = landings_.front().original; }

std::optional<uint64_t> BoostPlan::original_pc(uint64_t pc) const {
  for (const Landing& l : landings_)
    if (l.in_slot == pc) return l.original;
  return std::nullopt;
}

}  // namespace uptrace::arch
