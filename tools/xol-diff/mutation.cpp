#include "mutation.h"

#include "arch/x86_64/registers.h"

namespace xol_diff {
namespace {

namespace x86 = uptrace::arch::x86_64;
using uptrace::arch::HitAction;
using uptrace::arch::Regs;
using uptrace::arch::StepState;

void spoil(Regs& regs) { regs.words[x86::kRbp] ^= 0x10; }

class Mutated final : public uptrace::arch::ProbePlan {
 public:
  explicit Mutated(std::unique_ptr<ProbePlan> plan) : plan_(std::move(plan)) {}
  uptrace::arch::ExecMode mode() const override { return plan_->mode(); }
  std::string describe() const override { return plan_->describe() + " (mutated)"; }
  std::vector<uint8_t> slot_code() const override { return plan_->slot_code(); }
  HitAction begin_hit(Regs& regs, uptrace::MemoryAccess& mem, StepState& state) const override {
    const HitAction a = plan_->begin_hit(regs, mem, state);
    if (a == HitAction::Resume) spoil(regs);
    return a;
  }
  void finish_step(Regs& regs, uptrace::MemoryAccess& mem, const StepState& state) const override {
    plan_->finish_step(regs, mem, state);
    spoil(regs);
  }
  void abort_step(Regs& regs, const StepState& state) const override {
    plan_->abort_step(regs, state);
    spoil(regs);
  }

 private:
  std::unique_ptr<ProbePlan> plan_;
};

}  // namespace

std::unique_ptr<uptrace::arch::ProbePlan> mutated(std::unique_ptr<uptrace::arch::ProbePlan> plan) {
  return std::make_unique<Mutated>(std::move(plan));
}

}  // namespace xol_diff
