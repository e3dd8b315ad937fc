#pragma once
// The ppc64le ProbePlans: one that single-steps a (possibly rewritten) copy
// in the slot and fixes up after it, and the emulations, which compute the
// effect of the instructions that depend on their own address (every
// branch, addpcis, the prefixed pc-relative forms) in the tracer.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/emulate_plan.h"
#include "arch/isa.h"

namespace uptrace::arch::ppc64le {

// A general register the slot's code uses as a base address: it is loaded
// with `value` for the step, and given back its own value after it unless
// it is also the step's result.
struct ScratchBase {
  uint8_t reg = 0;
  uint64_t value = 0;
  bool is_result = false;  // a pc-relative load rewritten through its own destination
};

struct StepSpec {
  RuntimeAddr site;
  RuntimeAddr slot;
  std::vector<uint8_t> code;  // what runs in the slot (4 or 8 bytes)
  uint8_t length = 4;         // of the instruction at the site
  // bctar: pc came from TAR when the branch was taken; only the fall
  // through (slot + 4) is relocated.
  bool keep_taken_pc = false;
  // bctarl: the copy wrote slot + 4 to LR; rewrite it to site + 4.
  bool rewrite_link = false;
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
  std::optional<uint64_t> original_pc(uint64_t pc_in_slot) const override;
  std::vector<uint8_t> site_patch() const override { return {}; }

  const StepSpec& spec() const { return spec_; }

 private:
  StepSpec spec_;
};

using arch::EmulatePlan;

// Every branch form: b, bc, bclr, bcctr (with or without LK, AA).
struct BranchSpec {
  enum class Target : uint8_t { Fixed, Lr, Ctr };
  Target target = Target::Fixed;
  uint64_t fixed = 0;    // Target::Fixed: the branch target
  unsigned bo = 20;      // branch always
  unsigned bi = 0;
  bool link = false;     // LK: LR = next, taken or not
  uint64_t next = 0;     // site + 4

  // Whether the branch is taken; decrements `ctr` when BO says so.
  bool taken(uint64_t& ctr, const Regs& regs) const;
};

class BranchEmulation final : public EmulatePlan {
 public:
  BranchEmulation(std::string description, BranchSpec spec);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  BranchSpec spec_;
};

// addpcis, pla (paddi with R=1): a value known at analysis.
class AddressEmulation final : public EmulatePlan {
 public:
  AddressEmulation(std::string description, uint8_t reg, uint64_t value, uint64_t next);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t reg_;
  uint64_t value_;
  uint64_t next_;
};

// pld, plwa, plwz, plhz, plha, plbz with R=1. Falls back to stepping the
// load rewritten through a base register when the data cannot be read, so
// the CPU raises the fault with proper siginfo.
class PcRelLoadEmulation final : public EmulatePlan {
 public:
  PcRelLoadEmulation(std::string description, uint8_t reg, uint64_t address, uint8_t bytes, bool sign_extend,
                     uint64_t next, std::unique_ptr<StepPlan> fallback);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t reg_;
  uint64_t address_;
  uint8_t bytes_;
  bool sign_extend_;
  uint64_t next_;
};

}  // namespace uptrace::arch::ppc64le
