#pragma once
// The base of every ISA's emulations: the tracer computes the instruction's
// effect at the trap stop, and the thread runs on (one stop, no slot). An
// emulation that needs memory it cannot access (a push onto an unmapped
// stack, a pointer that cannot be read) keeps a stepping plan as its
// fallback: the instruction then runs out of line and faults there, so the
// CPU raises the fault with its real siginfo, as the kernel does.
#include <memory>
#include <string>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch {

class EmulatePlan : public ProbePlan {
 public:
  ExecMode mode() const final { return ExecMode::Emulate; }
  std::string describe() const final { return description_; }
  std::vector<uint8_t> slot_code() const final;
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const final;
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const final;
  void abort_step(Regs& regs, const StepState& state) const final;
  bool is_step_end_trap(RuntimeAddr trap) const final;

 protected:
  EmulatePlan(std::string description, std::unique_ptr<ProbePlan> fallback);
  // Apply the instruction's effect. Returns false, having changed nothing,
  // when memory it needs is not accessible (only plans with a fallback may).
  virtual bool emulate(Regs& regs, MemoryAccess& mem) const = 0;

 private:
  std::string description_;
  std::unique_ptr<ProbePlan> fallback_;
};

}  // namespace uptrace::arch
