#pragma once
// Jump probes on riscv64: the site's 4-byte instruction becomes `jal x0` to
// a per-site trampoline (jal reaches +-1 MiB, so the slot must be that near:
// core/scratch_placement, Isa::slot_reach), which writes one ring record per
// probe (common/ring_layout.h) with no stop at all, then runs the displaced
// instruction and jumps back. One instruction replaced by one of the same
// length: a branch to the site lands on the jal, never inside it, so no
// branch into the patched bytes is possible. A 2-byte (compressed) site
// would need the 4-byte jal to cover the next instruction too, which is
// only sound once no branch can land between them; that proof is not made
// yet, so those sites are refused.
//
// Displaced: every instruction the boost runs as a plain copy (not pc-
// relative, no control transfer), and auipc, whose value is known at
// analysis (the trampoline builds it with lui/addiw/slli/addi). Not jal,
// jalr, branches (they would leave from the trampoline), not lr/sc and
// what lies between them (the trampoline's own lr/sc would end the
// reservation).
//
// The trampoline saves the registers it uses below sp before it moves sp
// (riscv has no red zone, and until sp moves nothing has been changed, so a
// thread found there, or faulting there, is as at the site), then 16-byte
// aligned. It reads tail (then fence r,rw: the records it will write were
// read by uptrace before uptrace moved tail, and head is never below the
// tail read first), reserves the records with lr.d/sc.d on head while head
// - tail leaves room, and when the ring is full executes a c.ebreak
// uptrace recognises (JumpPlan::is_ring_full_trap), after which the writer
// tries again. A failed sc.d does not retry in place: the thread restores
// what it saved and jumps back to the site, which enters the trampoline
// anew. Each record holds rdtime, the thread (the mode word of the ring
// says how: nothing, tp itself (unique per thread, no system call), or the
// kernel's thread id by gettid, tagged), the probe, and the register words
// as they were at the site; its commit word is written last, after fence
// rw,w. Probes' conditions are not evaluated in the trampoline yet: a probe
// with a condition is refused (auto falls back to a stop).
//
// riscv64 has no single step (StepMechanism::TrailingTrap), so a thread
// found anywhere in the trampoline (a signal, detach) must get out by the
// plan's slot_exit. The slot holds the trampoline twice: the free-running
// form, then a stepped form, the same code at the same offsets but for its
// exits: its two jumps back (to the site after a failed sc.d, to the
// instruction after it when done) are c.ebreak traps that end a step, and a
// full ring sends it to the failed-sc.d path instead of to the ring-full
// trap (a step cannot wait for room). A thread found at offset k of the
// free-running form is run from offset k of the stepped form to one of its
// end traps; finish_step puts it at the site (nothing recorded: it will
// enter again) or after it (recorded, the displaced instruction run once).
// A thread between lr.d and sc.d when stopped loses its reservation (the
// kernel clears it on the way back to user space), so its sc.d fails and it
// takes the first way.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::riscv64 {

struct Decoded;

class JumpPlan final : public ProbePlan {
 public:
  struct Layout {
    uint64_t saved_end = 0;        // the addi that moves sp: before it, the thread is as at the site
    uint64_t first_relocated = 0;  // the displaced instruction, registers as at the site
    uint64_t back_to_site = 0;     // the jal to the site after a failed sc.d, registers as at the site
    uint64_t back_after = 0;       // the jal to the instruction after the site
    uint64_t full_trap = 0;        // the c.ebreak of a full ring
    uint64_t stepped = 0;          // where the stepped form starts
    uint64_t stepped_to_site = 0;  // its end trap that leaves for the site
    uint64_t stepped_after = 0;    // its end trap that leaves for the instruction after the site
    uint64_t end = 0;              // the first address past the code
  };
  JumpPlan(std::vector<uint8_t> trampoline, uint32_t site_jal, RuntimeAddr site, uint64_t length, RuntimeAddr slot,
           Layout layout, std::string description);

  ExecMode mode() const override { return ExecMode::Jump; }
  std::string describe() const override { return description_; }
  std::vector<uint8_t> slot_code() const override { return trampoline_; }
  // Only reached if a thread stops at the site on something else's trap.
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  // pc is at one of the stepped form's end traps.
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;
  std::optional<uint64_t> original_pc(uint64_t pc) const override;
  std::optional<SlotExit> slot_exit(uint64_t pc) const override;
  std::vector<uint8_t> site_patch() const override;
  bool is_step_end_trap(RuntimeAddr trap) const override;
  bool is_ring_full_trap(RuntimeAddr trap) const override;

  const Layout& layout() const { return layout_; }

 private:
  std::vector<uint8_t> trampoline_;
  uint32_t site_jal_;
  RuntimeAddr site_;
  uint64_t length_;
  RuntimeAddr slot_;
  Layout layout_;
  std::string description_;
};

struct JumpBuild {
  std::unique_ptr<JumpPlan> plan;
  std::string why_not;
};

// The jump plan for the instruction `d` at ctx.site, with the records
// ctx.jump asks for, in a slot of `slot_size` bytes; or why not.
JumpBuild build_jump(const Decoded& d, const SiteContext& ctx, size_t slot_size);

}  // namespace uptrace::arch::riscv64
