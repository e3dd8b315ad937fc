#pragma once
// The riscv64 ProbePlans. There is no hardware single step for user space
// (PTRACE_SINGLESTEP fails with EIO), so a stepped instruction runs in its
// slot as `copy; c.ebreak` and the core lets the thread run to that trap
// (StepMechanism::TrailingTrap), as the kernel's riscv uprobes do. Control
// transfers cannot be stepped that way (the copy would leave the slot before
// the trap) and are emulated: jal, jalr, the branches and their compressed
// forms, and auipc, which reads its own address. What is stepped here is
// boosted instead where the slot is in reach (riscv64/boost.h).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "arch/emulate_plan.h"
#include "arch/isa.h"

namespace uptrace::arch::riscv64 {

// c.ebreak, uptrace's breakpoint and the trap after every copy.
constexpr uint16_t kCEbreak = 0x9002;

struct StepSpec {
  RuntimeAddr site;
  RuntimeAddr slot;
  std::vector<uint8_t> copy;  // the instruction, 2 or 4 bytes
  // auipc: the result register holds a slot-relative value; add `delta`
  // (site - slot) to it. Register 0 is never named here.
  std::optional<std::pair<uint8_t, uint64_t>> result_delta;
  std::string description;
};

// Steps the copy: slot = copy; c.ebreak.
class StepPlan final : public ProbePlan {
 public:
  explicit StepPlan(StepSpec spec) : spec_(std::move(spec)) {}
  ExecMode mode() const override { return ExecMode::Trap; }
  std::string describe() const override { return spec_.description; }
  std::vector<uint8_t> slot_code() const override;
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  // pc is the trailing trap's address (the core sets it so): it becomes
  // site + length, the instruction after the probed one.
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;
  std::optional<uint64_t> original_pc(uint64_t pc_in_slot) const override;
  // The c.ebreak right after the copy (StepMechanism::TrailingTrap).
  bool is_step_end_trap(RuntimeAddr trap) const override;

  const StepSpec& spec() const { return spec_; }

 private:
  StepSpec spec_;
};

// The emulations (arch/emulate_plan.h): the effect is computed from the
// registers at the hit and the thread resumes at once; nothing runs in a
// slot. None needs memory, so none can fail, and none has a fallback.

// jal, c.j (and c.jal on RV32), and the no-ops (a jump to the next
// instruction, linking nothing): rd = link, pc = target.
class JumpEmulation final : public EmulatePlan {
 public:
  JumpEmulation(std::string description, uint64_t target, uint8_t rd = 0, uint64_t link = 0);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint64_t target_;
  uint8_t rd_;
  uint64_t link_;
};

// jalr, c.jr, c.jalr: pc = (rs1 + offset) & ~1, rs1 read before rd = link
// is written (jalr ra, 0(ra) jumps to the old ra).
class RegisterJumpEmulation final : public EmulatePlan {
 public:
  RegisterJumpEmulation(std::string description, uint8_t rs1, int64_t offset, uint8_t rd,
                        uint64_t link);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t rs1_;
  int64_t offset_;
  uint8_t rd_;
  uint64_t link_;
};

// The six comparisons of beq..bgeu (c.beqz/c.bnez compare with x0).
enum class Comparison : uint8_t { Eq, Ne, Lt, Ge, Ltu, Geu };
bool compare(Comparison c, uint64_t a, uint64_t b);

class BranchEmulation final : public EmulatePlan {
 public:
  BranchEmulation(std::string description, Comparison cmp, uint8_t rs1, uint8_t rs2,
                  uint64_t taken, uint64_t not_taken);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  Comparison cmp_;
  uint8_t rs1_;
  uint8_t rs2_;
  uint64_t taken_;
  uint64_t not_taken_;
};

// auipc: rd = a value known at analysis (site + imm).
class AuipcEmulation final : public EmulatePlan {
 public:
  AuipcEmulation(std::string description, uint8_t rd, uint64_t value, uint64_t next);

 private:
  bool emulate(Regs& regs, MemoryAccess& mem) const override;
  uint8_t rd_;
  uint64_t value_;
  uint64_t next_;
};

}  // namespace uptrace::arch::riscv64
