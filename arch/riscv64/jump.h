#pragma once
// Jump probes on riscv64: the site's instruction becomes `jal x0` to a
// per-site trampoline (jal reaches +-1 MiB, so the slot must be that near:
// core/scratch_placement, Isa::slot_reach), which writes one ring record per
// probe (common/ring_layout.h) with no stop at all, then runs the displaced
// instructions and jumps back. A 4-byte site is replaced by one instruction
// of the same length: a branch to the site lands on the jal, never inside
// it. A 2-byte (compressed) site needs the 4-byte jal to cover the start of
// the next instruction too, so both are displaced (2 + 2 or 2 + 4 bytes)
// and the trampoline returns after the second; the last 2 bytes of a 4-byte
// second instruction become a c.nop (never run: jump.cpp's site_patch says
// why it is written anyway). That is sound only where nothing can arrive
// between the two but by falling through from the site: jump_targets.h
// proves it over the function and the whole module, or refuses.
//
// A thread between the two displaced instructions (the first has run) is as
// at site + 2, an address inside the jal where it may not be sent back to:
// it has no original_pc, and it leaves through the stepped form's copy of
// the second instruction (slot_exit), to after both. If the second faults
// there, it faults with nothing of it done, and the fault is delivered at
// the site with the first undone (abort_step): so a second instruction that
// may fault (a load or store, an AMO, a float instruction) is displaced only
// after a first that can be undone from the registers alone, addi rd, rd,
// imm (c.addi, c.addi16sp: the usual `addi sp, sp, -N; sd ra, N-8(sp)`
// prologue) or a nop; else the site is refused.
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
// enter again) or after it (recorded, the displaced instructions run once).
// A thread between lr.d and sc.d when stopped loses its reservation (the
// kernel clears it on the way back to user space), so its sc.d fails and it
// takes the first way.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::riscv64 {

struct Decoded;

class JumpPlan final : public ProbePlan {
 public:
  struct Layout {
    uint64_t saved_end = 0;        // the addi that moves sp: before it, the thread is as at the site
    uint64_t first_relocated = 0;  // the displaced instruction, registers as at the site
    uint64_t second_relocated = 0;  // the second displaced instruction after a 2-byte site, or 0
    uint64_t back_to_site = 0;     // the jal to the site after a failed sc.d, registers as at the site
    uint64_t back_after = 0;       // the jal to the instruction after the site
    uint64_t full_trap = 0;        // the c.ebreak of a full ring
    uint64_t stepped = 0;          // where the stepped form starts
    uint64_t stepped_to_site = 0;  // its end trap that leaves for the site
    uint64_t stepped_after = 0;    // its end trap that leaves for the instruction after the site
    uint64_t end = 0;              // the first address past the code
  };
  // `length`: the displaced instructions' bytes (4, or 2 + 2 or 2 + 4);
  // `undo_first`: how abort_step undoes the first of two displaced
  // instructions when the second faults, (register, amount subtracted).
  JumpPlan(std::vector<uint8_t> trampoline, uint32_t site_jal, RuntimeAddr site, uint64_t length, RuntimeAddr slot,
           Layout layout, std::optional<std::pair<uint8_t, int64_t>> undo_first, std::string description);

  ExecMode mode() const override { return ExecMode::Jump; }
  std::string describe() const override { return description_; }
  std::vector<uint8_t> slot_code() const override { return trampoline_; }
  // Only reached if a thread stops at the site on something else's trap.
  HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const override;
  // pc is at one of the stepped form's end traps.
  void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const override;
  void abort_step(Regs& regs, const StepState& state) const override;
  bool is_displaced_copy(uint64_t pc) const override;
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
  std::optional<std::pair<uint8_t, int64_t>> undo_first_;
  std::string description_;
};

struct JumpBuild {
  std::unique_ptr<JumpPlan> plan;
  std::string why_not;
};

// The jump plan for the instruction `d` at ctx.site, with the records
// ctx.jump asks for, in a slot of `slot_size` bytes; or why not. `code` is
// the function decoded from its start (`d` is one of its elements).
JumpBuild build_jump(const Decoded& d, const SiteContext& ctx, std::span<const Decoded> code, size_t slot_size);

}  // namespace uptrace::arch::riscv64
