#pragma once
// Jump probes (the kernel's optprobes, from outside): the site's first
// instructions are overwritten with a jmp rel32 to a per-site trampoline that
// writes one ring record per probe (common/ring_layout.h) with no stop at all,
// then runs the displaced instructions, relocated, and jumps back.
//
// Safe only when every displaced instruction can run from the trampoline
// (relative branches are retargeted, a call pushes its original return
// address and jumps), no branch in the function or its FUNC.cold parts lands
// inside the overwritten bytes (jump_targets.h: each is decoded; an indirect
// jump refuses unless it is a switch whose table is read), the bytes after a
// ret or jmp that ends the flow early are padding after the function's end,
// and the trampoline leaves the red zone alone. Where the 5 bytes cannot be
// written, a relay in the padding before the function may let a jmp rel8
// over the first instruction alone go there (jump_relay.h). Whether a
// thread is inside those bytes right now is the core's check
// (core/site_check.cpp).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::x86_64 {

class Decoder;

class JumpPlan final : public ProbePlan {
 public:
  JumpPlan(std::vector<uint8_t> trampoline, std::vector<uint8_t> site_patch, std::optional<Relay> relay, RuntimeAddr site,
           RuntimeAddr slot, uint64_t first_relocated, std::vector<uint64_t> full_traps,
           std::vector<uint64_t> syscall_ends, std::string description);

  ExecMode mode() const override { return ExecMode::Jump; }
  std::string describe() const override { return description_; }
  std::vector<uint8_t> slot_code() const override { return trampoline_; }
  // Only reached if a thread stops at the site on something else's trap.
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;
  std::optional<uint64_t> original_pc(uint64_t pc) const override;
  std::vector<uint8_t> site_patch() const override { return site_patch_; }
  std::optional<Relay> relay() const override { return relay_; }
  bool is_ring_full_trap(RuntimeAddr trap) const override;
  bool follows_syscall(uint64_t pc) const override;

 private:
  std::vector<uint8_t> trampoline_;
  std::vector<uint8_t> site_patch_;
  std::optional<Relay> relay_;  // jump_relay.h
  RuntimeAddr site_;
  RuntimeAddr slot_;
  uint64_t first_relocated_;  // where the displaced instructions start in the trampoline
  std::vector<uint64_t> full_traps_;  // one trap per record, where a writer waits for room
  std::vector<uint64_t> syscall_ends_;  // right after each record's gettid syscall
  std::string description_;
};

struct JumpBuild {
  std::unique_ptr<JumpPlan> plan;
  std::string why_not;
};

// The jump plan for ctx.site with the records ctx.jump asks for, or why not.
JumpBuild build_jump(const Decoder& decoder, const SiteContext& ctx, size_t slot_size);

}  // namespace uptrace::arch::x86_64
