#pragma once
// Boosted execution (the kernel's "boostable" uprobes on x86): the slot holds
// the copy followed by a branch back, so a hit costs one stop. Each ISA
// builds the slot's code (x86_64/boost.h, aarch64/boost.h, ppc64le/boost.h,
// riscv64/boost.h); running it is the same everywhere: pc into the slot at
// the trap, and a map from the slot's landing points back to the original
// code for a thread a signal finds there.
//
// Where the core cannot single-step (StepMechanism::TrailingTrap), a thread
// a signal finds at the slot's start, before its copy ran, cannot be
// stepped over the copy: the slot then also holds a stepped form of the
// copy (the copy again, then the ISA's trap), which the core runs to its
// trap as it runs any step (ProbePlan::slot_exit).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch {

class BoostPlan final : public ProbePlan {
 public:
  struct Landing {
    uint64_t in_slot;   // an address inside the slot where nothing has run yet...
    uint64_t original;  // ...and where the same state is in the original code
  };
  // The copy once more, run to a trap after it: for leaving the slot from
  // its start without a single step.
  struct SteppedForm {
    uint64_t start;              // where the second copy starts, in the slot
    std::vector<Landing> ends;   // its end traps (in_slot) and where pc goes from each (original)
  };
  // `pc_word`: the index of pc in Regs::words. The first landing is the
  // slot's start and the site.
  BoostPlan(std::vector<uint8_t> code, std::vector<Landing> landings, RuntimeAddr slot, size_t pc_word,
            std::string description, std::optional<SteppedForm> stepped = std::nullopt);

  ExecMode mode() const override { return ExecMode::Boost; }
  std::string describe() const override { return description_; }
  std::vector<uint8_t> slot_code() const override { return code_; }
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  // Only the stepped form is ever stepped: pc is at one of its end traps.
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;
  std::optional<uint64_t> original_pc(uint64_t pc) const override;
  std::optional<SlotExit> slot_exit(uint64_t pc) const override;
  bool is_step_end_trap(RuntimeAddr trap) const override;

 private:
  std::vector<uint8_t> code_;
  std::vector<Landing> landings_;
  RuntimeAddr slot_;
  size_t pc_word_;
  std::string description_;
  std::optional<SteppedForm> stepped_;
};

struct BoostBuild {
  std::unique_ptr<BoostPlan> plan;
  std::string why_not;
};

}  // namespace uptrace::arch
