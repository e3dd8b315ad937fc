#include "arch/emulate_plan.h"

#include <cassert>

namespace uptrace::arch {

EmulatePlan::EmulatePlan(std::string description, std::unique_ptr<ProbePlan> fallback)
    : description_(std::move(description)), fallback_(std::move(fallback)) {}

std::vector<uint8_t> EmulatePlan::slot_code() const { return fallback_ ? fallback_->slot_code() : std::vector<uint8_t>{}; }

HitAction EmulatePlan::begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const {
  if (emulate(regs, mem.as_program_sees())) return HitAction::Resume;
  assert(fallback_ && "an emulation that can fail needs a fallback");
  return fallback_->begin_hit(regs, mem, state);
}

void EmulatePlan::finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const {
  assert(fallback_);
  fallback_->finish_step(regs, mem, state);
}

void EmulatePlan::abort_step(Regs& regs, const StepState& state) const {
  assert(fallback_);
  fallback_->abort_step(regs, state);
}

bool EmulatePlan::is_step_end_trap(RuntimeAddr trap) const { return fallback_ && fallback_->is_step_end_trap(trap); }

}  // namespace uptrace::arch
