#pragma once
// Boosted execution (the kernel's "boostable" uprobes): the slot holds the
// relocated copy followed by a jump back, so a hit costs one stop. Only
// instructions that need no fixup after they run can be boosted: a copy that
// pushes a slot address, or borrows a scratch register, still needs the step.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "arch/x86_64/plans.h"

namespace uptrace::arch::x86_64 {

class BoostPlan final : public ProbePlan {
 public:
  struct Landing {
    uint64_t in_slot;   // an address inside the slot where nothing has run yet...
    uint64_t original;  // ...and where the same state is in the original code
  };
  BoostPlan(std::vector<uint8_t> code, std::vector<Landing> landings, RuntimeAddr slot, std::string description);

  ExecMode mode() const override { return ExecMode::Boost; }
  std::string describe() const override { return description_; }
  std::vector<uint8_t> slot_code() const override { return code_; }
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;
  std::optional<uint64_t> original_pc(uint64_t pc) const override;

 private:
  std::vector<uint8_t> code_;
  std::vector<Landing> landings_;
  RuntimeAddr slot_;
  std::string description_;
};

struct BoostBuild {
  std::unique_ptr<BoostPlan> plan;
  std::string why_not;
};

// The boosted form of a step plan: its copy, then a jump to wherever the
// fixup would have put pc.
BoostBuild build_boost(const StepSpec& spec);

// jmp rel32 from `from` (the jump's own address) to `to`; nullopt when out of reach.
std::optional<std::vector<uint8_t>> jmp_rel32(uint64_t from, uint64_t to);

}  // namespace uptrace::arch::x86_64
