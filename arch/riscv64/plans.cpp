#include "arch/riscv64/plans.h"

#include <cassert>

#include "arch/riscv64/encoding.h"
#include "arch/riscv64/registers.h"

namespace uptrace::arch::riscv64 {

// --- StepPlan ---------------------------------------------------------------

std::vector<uint8_t> StepPlan::slot_code() const {
  std::vector<uint8_t> code = spec_.copy;
  const auto trap = parcel_bytes(kCEbreak);
  code.insert(code.end(), trap.begin(), trap.end());
  return code;
}

HitAction StepPlan::begin_hit(Regs& regs, MemoryAccess&, StepState&) const {
  regs.words[kPc] = spec_.slot.value;
  return HitAction::SingleStep;
}

void StepPlan::finish_step(Regs& regs, MemoryAccess&, const StepState&) const {
  // The copy is no control transfer (those are emulated), so it always ends
  // at the trailing trap: pc = slot + length, which relocates to the
  // instruction after the site.
  uint64_t& pc = regs.words[kPc];
  pc = spec_.site.value + (pc - spec_.slot.value);
  if (spec_.result_delta) {
    const auto [reg, delta] = *spec_.result_delta;
    write_x(regs, reg, read_x(regs, reg) + delta);
  }
}

void StepPlan::abort_step(Regs& regs, const StepState&) const { regs.words[kPc] = spec_.site.value; }

// A thread found in the slot before the copy ran is at the site; one found
// at the trailing trap has run it, but the result fixup is finish_step's,
// so only the start maps back.
std::optional<uint64_t> StepPlan::original_pc(uint64_t pc_in_slot) const {
  if (pc_in_slot == spec_.slot.value) return spec_.site.value;
  return std::nullopt;
}

bool StepPlan::is_step_end_trap(RuntimeAddr trap) const { return trap == spec_.slot + spec_.copy.size(); }

// --- emulations ---------------------------------------------------------------

JumpEmulation::JumpEmulation(std::string description, uint64_t target, uint8_t rd, uint64_t link)
    : EmulatePlan(std::move(description), nullptr), target_(target), rd_(rd), link_(link) {}

bool JumpEmulation::emulate(Regs& regs, MemoryAccess&) const {
  write_x(regs, rd_, link_);
  regs.words[kPc] = target_;
  return true;
}

RegisterJumpEmulation::RegisterJumpEmulation(std::string description, uint8_t rs1, int64_t offset,
                                             uint8_t rd, uint64_t link)
    : EmulatePlan(std::move(description), nullptr), rs1_(rs1), offset_(offset), rd_(rd), link_(link) {}

bool RegisterJumpEmulation::emulate(Regs& regs, MemoryAccess&) const {
  const uint64_t target = (read_x(regs, rs1_) + static_cast<uint64_t>(offset_)) & ~uint64_t{1};
  write_x(regs, rd_, link_);
  regs.words[kPc] = target;
  return true;
}

bool compare(Comparison c, uint64_t a, uint64_t b) {
  switch (c) {
    case Comparison::Eq: return a == b;
    case Comparison::Ne: return a != b;
    case Comparison::Lt: return static_cast<int64_t>(a) < static_cast<int64_t>(b);
    case Comparison::Ge: return static_cast<int64_t>(a) >= static_cast<int64_t>(b);
    case Comparison::Ltu: return a < b;
    case Comparison::Geu: return a >= b;
  }
  return false;
}

BranchEmulation::BranchEmulation(std::string description, Comparison cmp, uint8_t rs1, uint8_t rs2,
                                 uint64_t taken, uint64_t not_taken)
    : EmulatePlan(std::move(description), nullptr),
      cmp_(cmp),
      rs1_(rs1),
      rs2_(rs2),
      taken_(taken),
      not_taken_(not_taken) {}

bool BranchEmulation::emulate(Regs& regs, MemoryAccess&) const {
  regs.words[kPc] = compare(cmp_, read_x(regs, rs1_), read_x(regs, rs2_)) ? taken_ : not_taken_;
  return true;
}

AuipcEmulation::AuipcEmulation(std::string description, uint8_t rd, uint64_t value, uint64_t next)
    : EmulatePlan(std::move(description), nullptr), rd_(rd), value_(value), next_(next) {}

bool AuipcEmulation::emulate(Regs& regs, MemoryAccess&) const {
  write_x(regs, rd_, value_);
  regs.words[kPc] = next_;
  return true;
}

}  // namespace uptrace::arch::riscv64
