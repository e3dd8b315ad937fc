#pragma once
// Jump probes on aarch64: the site's one instruction word becomes a `b` to
// a per-site trampoline (b reaches +-128 MiB, so the slot must be near the
// site), which writes one ring record per probe (common/ring_layout.h)
// with no stop at all, then runs the displaced instruction and branches
// back. One word replaced by one word: a branch to the site lands on the
// `b`, never inside it, so no branch into the patched bytes is possible.
//
// Only instructions the boost runs as a plain copy are displaced (not
// pc-relative, not a call), and adr/adrp, whose value is known at
// analysis (the trampoline sets the register with movz/movk). Not the
// landing pads of branch target
// identification (bti, paciasp, pacibsp): on a guarded page an indirect
// branch to the site must find one there, and a `b` is not one.
//
// The trampoline, on the thread's stack (arm64 has no red zone: sp moves
// first, 16-aligned): x0-x4 and x8 saved (jump_code.h); the records reserved together by
// one ldaxr/stlxr on head while head - tail leaves room (tail read first,
// with ldar, so the difference never wraps); a full ring is a `brk` uptrace
// recognises (JumpPlan::is_ring_full_trap), after which the writer tries
// again. A failed stlxr does not retry in place: the thread restores what
// it saved and branches back to the site, which enters the trampoline
// anew. A thread single-stepped through the trampoline (leaving it for a
// signal, or at detach) takes a trap between the two exclusives, which
// clears the monitor so the stlxr always fails: this way it leaves the
// trampoline at the site, as it was, instead of looping for ever. Each
// record holds cntvct_el0, the thread (as the ring's mode word says,
// ring::ThreadIdMode: tpidr_el0 itself, which the core reads from each
// thread's NT_ARM_TLS to name it, or, once two threads share one or a
// thread has none, the kernel's thread id by gettid, tagged), the probe, and the
// register words as they were at the site; its commit word is written last
// with stlr. Probes' conditions (jump_filter.h) are evaluated before the
// reservation, and only the records kept are reserved; only they touch the
// flags (the room test is a shift and cbnz), so only then is NZCV saved.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::aarch64 {

struct StepSpec;

class JumpPlan final : public ProbePlan {
 public:
  struct Layout {
    uint64_t first_relocated = 0;  // the displaced instruction, registers as at the site
    uint64_t back_to_site = 0;     // the `b site` after a failed stlxr, registers as at the site
    std::vector<uint64_t> full_traps;
    std::vector<uint64_t> syscall_ends;  // right after each svc (gettid)
  };
  JumpPlan(std::vector<uint8_t> trampoline, uint32_t site_branch, RuntimeAddr site, RuntimeAddr slot, Layout layout,
           std::string description);

  ExecMode mode() const override { return ExecMode::Jump; }
  std::string describe() const override { return description_; }
  std::vector<uint8_t> slot_code() const override { return trampoline_; }
  // Only reached if a thread stops at the site on something else's trap.
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;
  std::optional<uint64_t> original_pc(uint64_t pc) const override;
  std::vector<uint8_t> site_patch() const override;
  bool is_ring_full_trap(RuntimeAddr trap) const override;
  bool follows_syscall(uint64_t pc) const override;

 private:
  std::vector<uint8_t> trampoline_;
  uint32_t site_branch_;
  RuntimeAddr site_;
  RuntimeAddr slot_;
  Layout layout_;
  std::string description_;
};

struct JumpBuild {
  std::unique_ptr<JumpPlan> plan;
  std::string why_not;
};

// The jump plan for the instruction `word` at ctx.site, whose out-of-line
// step is `step`, with the records ctx.jump asks for; or why not.
JumpBuild build_jump(uint32_t word, const StepSpec& step, const SiteContext& ctx, size_t slot_size);

}  // namespace uptrace::arch::aarch64
