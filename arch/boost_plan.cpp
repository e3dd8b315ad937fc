#include "arch/boost_plan.h"

namespace uptrace::arch {

BoostPlan::BoostPlan(std::vector<uint8_t> code, std::vector<Landing> landings, RuntimeAddr slot, size_t pc_word,
                     std::string description, std::optional<SteppedForm> stepped)
    : code_(std::move(code)),
      landings_(std::move(landings)),
      slot_(slot),
      pc_word_(pc_word),
      description_(std::move(description)),
      stepped_(std::move(stepped)) {}

HitAction BoostPlan::begin_hit(Regs& regs, MemoryAccess&, StepState&) const {
  regs.words[pc_word_] = slot_.value;
  return HitAction::Resume;
}

// A boosted hit never steps; only a thread leaving the slot from its start
// runs the stepped form (slot_exit), and it ends at one of its traps.
void BoostPlan::finish_step(Regs& regs, MemoryAccess&, const StepState&) const {
  if (!stepped_) return;
  for (const Landing& end : stepped_->ends)
    if (regs.words[pc_word_] == end.in_slot) regs.words[pc_word_] = end.original;
}

// The copy faulted (in the slot or in its stepped form): nothing of it ran,
// the thread is back at the site, where the fault is delivered.
void BoostPlan::abort_step(Regs& regs, const StepState&) const { regs.words[pc_word_] = landings_.front().original; }

std::optional<uint64_t> BoostPlan::original_pc(uint64_t pc) const {
  for (const Landing& l : landings_)
    if (l.in_slot == pc) return l.original;
  return std::nullopt;
}

std::optional<SlotExit> BoostPlan::slot_exit(uint64_t pc) const {
  // At the start the hit is counted and the copy not run: the stepped form
  // runs it; sent back to the site, the thread would hit the probe again.
  if (pc == landings_.front().in_slot) {
    if (!stepped_) return std::nullopt;
    return SlotExit{SlotExit::Kind::Step, stepped_->start};
  }
  // Past the copy, every landing is a branch to its original address.
  if (auto original = original_pc(pc)) return SlotExit{SlotExit::Kind::Original, *original};
  return std::nullopt;
}

bool BoostPlan::is_step_end_trap(RuntimeAddr trap) const {
  if (!stepped_) return false;
  for (const Landing& end : stepped_->ends)
    if (end.in_slot == trap.value) return true;
  return false;
}

}  // namespace uptrace::arch
