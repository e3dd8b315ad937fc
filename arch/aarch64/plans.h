#pragma once
// The aarch64 ProbePlans: one that single-steps a (possibly rewritten) copy
// in the slot and fixes up after it, and the emulations, which compute the
// instruction's effect in the tracer.
//
// Every emulation clears PSTATE.BTYPE: the branch that reached the site may
// have set it (a brk is exempt from the branch target check), and executing
// the site's instruction would have cleared it; left set, the instruction at
// the new pc would raise a branch target exception on a guarded page.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arch/emulate_plan.h"
#include "arch/isa.h"

namespace uptrace::arch::aarch64 {

// Where pc goes after the step.
struct PcFixup {
  enum class Kind : uint8_t {
    Relocate,  // pc = site + (pc - slot)
    Keep,      // pc came from a register and is already right
    Branch,    // the copy lands on one of two known slot addresses
  };
  Kind kind = Kind::Relocate;
  uint64_t taken_in_slot = 0;
  uint64_t taken = 0;
  uint64_t not_taken_in_slot = 0;
  uint64_t not_taken = 0;
};

// A general register the slot's code uses as a base address: it is loaded
// with `value` for the step, and given back its own value after it unless
// it is also the step's result.
struct ScratchBase {
  uint8_t reg = 0;
  uint64_t value = 0;
  bool is_result = false;  // a literal load through its own destination
};

struct StepSpec {
  RuntimeAddr site;
  RuntimeAddr slot;
  std::vector<uint8_t> code;  // what runs in the slot
  PcFixup pc;
  // A call: the copy wrote slot + 4 to x30; rewrite it to site + 4.
  bool rewrite_link = false;
  // adr/adrp: the result register holds a slot-relative value; add `delta`.
  std::optional<std::pair<uint8_t, uint64_t>> result_delta;
  // adr/adrp: the value the result register gets at the site (a boost
  // loads it from the slot instead of running the copy).
  uint64_t result_value = 0;
  std::optional<ScratchBase> scratch;
  std::string description;
};

// StepState use: saved[0] = the scratch register's own value.
class StepPlan final : public ProbePlan {
 public:
  explicit StepPlan(StepSpec spec) : spec_(std::move(spec)) {}
  ExecMode mode() const override { return ExecMode::Trap; }
  std::string describe() const override { return spec_.description; }
  std::vector<uint8_t> slot_code() const override { return spec_.code; }
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;

  const StepSpec& spec() const { return spec_; }

 private:
  StepSpec spec_;
};

using arch::EmulatePlan;

// b, bl (with a link), and the no-ops (a jump to the next instruction).
class JumpEmulation final : public EmulatePlan {
 public:
  JumpEmulation(std::string description, uint64_t target, std::optional<uint64_t> link = std::nullopt);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint64_t target_;
  std::optional<uint64_t> link_;
};

// What a conditional branch tests.
struct BranchCondition {
  enum class Kind : uint8_t {
    Flags,  // b.cond: `cond` over NZCV
    Zero,   // cbz (branch_if_zero) / cbnz: the register, 32 or 64 bits
    Bit,    // tbz (branch_if_zero) / tbnz: bit `bit` of the register
  };
  Kind kind = Kind::Flags;
  uint8_t cond = 0;
  uint8_t reg = 0;
  uint8_t bit = 0;
  bool wide = true;  // cbz/cbnz on x (not w)
  bool branch_if_zero = true;

  bool holds(const Regs& regs) const;
};

class CondBranchEmulation final : public EmulatePlan {
 public:
  CondBranchEmulation(std::string description, BranchCondition cond, uint64_t taken, uint64_t not_taken);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  BranchCondition cond_;
  uint64_t taken_;
  uint64_t not_taken_;
};

// br, blr, ret: pc from a register (read before blr writes x30).
class RegisterBranchEmulation final : public EmulatePlan {
 public:
  RegisterBranchEmulation(std::string description, uint8_t reg, std::optional<uint64_t> link);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t reg_;
  std::optional<uint64_t> link_;
};

// adr, adrp: a value known at analysis.
class AddressEmulation final : public EmulatePlan {
 public:
  AddressEmulation(std::string description, uint8_t reg, uint64_t value, uint64_t next);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t reg_;
  uint64_t value_;
  uint64_t next_;
};

// ldr w/x, ldrsw (literal). Falls back to stepping a load through the
// destination register when the literal cannot be read, so the CPU raises
// the fault with proper siginfo.
class LiteralLoadEmulation final : public EmulatePlan {
 public:
  LiteralLoadEmulation(std::string description, uint8_t reg, uint64_t address, uint8_t bytes, bool sign_extend,
                       uint64_t next, std::unique_ptr<StepPlan> fallback);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t reg_;
  uint64_t address_;
  uint8_t bytes_;
  bool sign_extend_;
  uint64_t next_;
};

}  // namespace uptrace::arch::aarch64
