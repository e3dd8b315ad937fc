#pragma once
// The x86-64 ProbePlans: one that single-steps a copy in the slot and fixes
// up after it, and the emulations, which compute the instruction's effect in
// the tracer. An emulation that touches memory keeps a step plan as its
// fallback: when the memory is not accessible it steps the instruction
// instead, so the fault (if there really is one) is raised by the CPU with
// proper siginfo, as the kernel does.
//
// A future boost plan is a StepPlan-like slot (the rewritten copy, which
// relocate.h already produces for displacements) followed by a jump back to
// site + length, with begin_hit returning Resume.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arch/emulate_plan.h"
#include "arch/isa.h"

namespace uptrace::arch::x86_64 {

// Where pc goes after the step.
struct PcFixup {
  enum class Kind : uint8_t {
    Relocate,  // pc = site + (pc - slot)
    Keep,      // pc came from the stack or an operand and is already right
    Branch,    // the copy lands on one of two known slot addresses
  };
  Kind kind = Kind::Relocate;
  uint64_t taken_in_slot = 0;
  uint64_t taken = 0;
  uint64_t not_taken_in_slot = 0;
  uint64_t not_taken = 0;
};

struct StepSpec {
  RuntimeAddr site;
  RuntimeAddr slot;
  uint8_t length = 0;         // of the instruction at the site
  std::vector<uint8_t> code;  // what runs in the slot
  PcFixup pc;
  // A call: the copy pushed its slot-relative return address; rewrite it to site + length.
  bool rewrite_return_address = false;
  // pushf: the step's TF is in the pushed flags (2 or 8 bytes); put the thread's own TF back.
  uint8_t pushed_flags_bytes = 0;
  // The register that holds site + length for a rip-relative operand during the step.
  std::optional<uint16_t> scratch_word;
  // StepMechanism::TrailingTrap: the int3s after the copy (one per landing
  // point of a copied branch) that end its step.
  std::vector<uint64_t> end_traps;
  std::string description;
};

// StepState use: saved[0] = the scratch register's value, saved[1] = the thread's own TF.
class StepPlan final : public ProbePlan {
 public:
  explicit StepPlan(StepSpec spec) : spec_(std::move(spec)) {}
  ExecMode mode() const override { return ExecMode::Trap; }
  std::string describe() const override { return spec_.description; }
  std::vector<uint8_t> slot_code() const override { return spec_.code; }
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;
  bool is_step_end_trap(RuntimeAddr trap) const override;

  const StepSpec& spec() const { return spec_; }

 private:
  StepSpec spec_;
};

using arch::EmulatePlan;

// jmp rel, and the no-ops (a jump to the next instruction).
class JumpEmulation final : public EmulatePlan {
 public:
  JumpEmulation(std::string description, uint64_t target);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint64_t target_;
};

class CallEmulation final : public EmulatePlan {
 public:
  CallEmulation(std::string description, uint64_t return_address, uint64_t target, std::unique_ptr<StepPlan> fallback);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint64_t return_address_;
  uint64_t target_;
};

// Whether jcc condition `cc` (the low nibble of its opcode) holds for these flags.
bool jcc_taken(uint8_t cc, uint64_t eflags);

class CondJumpEmulation final : public EmulatePlan {
 public:
  CondJumpEmulation(std::string description, uint8_t cc, uint64_t taken, uint64_t not_taken);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t cc_;
  uint64_t taken_;
  uint64_t not_taken_;
};

// loop/loope/loopne/jrcxz (opcodes e0-e3).
class LoopEmulation final : public EmulatePlan {
 public:
  LoopEmulation(std::string description, uint8_t opcode, bool ecx, uint64_t taken, uint64_t not_taken);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t opcode_;
  bool ecx_;  // 0x67: the count is ecx
  uint64_t taken_;
  uint64_t not_taken_;
};

class PushEmulation final : public EmulatePlan {
 public:
  struct Source {
    enum class Kind : uint8_t { Register, Immediate, Flags };
    Kind kind = Kind::Register;
    uint16_t word = 0;   // Register
    uint64_t value = 0;  // Immediate
  };
  PushEmulation(std::string description, Source source, uint8_t bytes, uint64_t next,
                std::unique_ptr<StepPlan> fallback);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  Source source_;
  uint8_t bytes_;
  uint64_t next_;
};

class LeaEmulation final : public EmulatePlan {
 public:
  LeaEmulation(std::string description, RegisterRef dest, uint64_t value, uint64_t next);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  RegisterRef dest_;
  uint64_t value_;
  uint64_t next_;
};

// jmp/call r/m64: the target from a register or from memory at an address
// made of base, index, scale, displacement and an fs/gs base. Falls back to
// stepping when the memory cannot be read, or for call when the return
// address cannot be pushed: the copy then faults at its first instruction,
// which is delivered at the site.
class IndirectBranchEmulation final : public EmulatePlan {
 public:
  struct Target {
    std::optional<RegisterRef> reg;    // jmp/call reg
    std::optional<RegisterRef> base;   // memory: base (rip is folded into disp), index, scale, disp
    std::optional<RegisterRef> index;
    uint8_t scale = 1;
    int64_t disp = 0;
    std::optional<uint16_t> segment_base;  // kFsBase or kGsBase
  };
  IndirectBranchEmulation(std::string description, Target target, bool call, uint64_t next,
                          std::unique_ptr<StepPlan> fallback);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  Target target_;
  bool call_;
  uint64_t next_;
};

// Falls back to stepping when the return address cannot be read or is not
// canonical (the ret itself faults then, with pc at the site).
class RetEmulation final : public EmulatePlan {
 public:
  RetEmulation(std::string description, uint16_t release, std::unique_ptr<StepPlan> fallback);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint16_t release_;  // ret imm16: bytes popped after the return address
};

}  // namespace uptrace::arch::x86_64
