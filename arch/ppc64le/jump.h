#pragma once
// Jump probes on ppc64le: the site's one instruction word becomes a `b` to
// a per-site trampoline (b reaches +-32 MiB, so the slot must be near the
// site), which writes one ring record per probe (common/ring_layout.h)
// with no stop at all, then runs the displaced instruction and branches
// back. One word replaced by one word: a branch to the site lands on the
// `b`, never inside it.
//
// Displaced: the instructions that run the same anywhere (what the boost
// copies as it is), and addpcis and pla, whose value is known at analysis
// (the trampoline sets the register with li/lis/ori/sldi/oris; for pla,
// an 8-byte prefixed instruction, only the prefix becomes the `b` and the
// way back skips the suffix, which nothing can branch to). A prefixed
// instruction that is not pc-relative is copied whole, placed so that it
// does not cross a 64-byte boundary. Branches are relocated: b/ba/bl/bla
// become a b (or, absolute, a ba) to their target from the trampoline;
// bc keeps its BO and BI (the same condition, the same CTR decrement) with
// an offset to a `b target` past the `b site+4` it falls to; bclr, bcctr
// and bctar branch to a register, the same anywhere, and are copied. A
// call's LR (LK) must be site+4: the trampoline sets it through r3 before
// restoring r3, so no register the program sees is changed (bcctrl and
// bctarl run without LK after). bclrl is refused: it branches to the LR it
// sets, which would need a register the program does not see. The
// pc-relative loads are emulated instead (one stop), the stores stepped.
//
// The trampoline never reads r2 (the TOC may be any module's, or none):
// every address it needs is an immediate, known when it is built. r1
// moves first, past the 288 bytes ELFv2 lets a function use below r1, and
// what the `sc` that may ask for the thread id may change is saved there
// (jump_code.h). The thread is named as the ring's mode word says
// (ring::ThreadIdMode): r13 itself, the ELFv2 thread pointer, which the
// core reads from each thread's registers to name it (glibc's points
// 0x7000 past its TCB, at no self pointer, so it is recorded as it is);
// or, once two threads share one (a clone without CLONE_SETTLS, as Go
// without cgo makes, keeps its parent's) or r13 is 0, the kernel's thread
// id by gettid, tagged. The records are reserved together by one ldarx/stdcx. on
// head while head - tail leaves room (tail read first, then lwsync); on a
// full ring the writer restores what it saved and waits at a `trap`
// uptrace recognises (JumpPlan::is_ring_full_trap), after which it enters
// again from the site (a thread waiting there stands as at the site). A failed stdcx. does not retry in
// place: the thread restores what it saved and branches back to the site,
// which enters the trampoline anew. Linux clears the reservation on every
// return from an interrupt, so a thread single-stepped through the
// trampoline (leaving it for a signal, or at detach) always fails its
// stdcx. and leaves at the site, as it was, instead of looping for ever.
// Each record holds the time base (mfspr 268), the thread, the probe, and
// the register words as they were at the site; its commit word is written
// last, after an lwsync. Probes' conditions (jump_filter.h) are evaluated
// first, before the thread is named, and only the records kept are
// reserved; a hit none keeps restores and runs the displaced instruction.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::ppc64le {

class JumpPlan final : public ProbePlan {
 public:
  struct Layout {
    // The displaced instruction, registers as at the site; 0 for a call,
    // whose LR is set before the registers are restored.
    uint64_t first_relocated = 0;
    // The ring-full trap and the `b site` after it, and the `b site` after a
    // failed stdcx.: registers as at the site.
    std::vector<uint64_t> at_site;
    std::vector<uint64_t> full_traps;
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

// What the displaced instruction (of `length` bytes at the site) becomes
// in the trampoline: the word itself, (addpcis, pla) a register set to
// the value it would have had at the site, or a branch relocated.
struct Displaced {
  // A branch is relocated as its kind needs (jump.cpp), not copied.
  enum class Branch : uint8_t {
    None,
    Relative,     // b, ba, bl, bla
    Conditional,  // bc, bca, bcl, bcla
    ToLr,         // bclr, bclrl
    ToCtrOrTar,   // bcctr, bcctrl, bctar, bctarl
  };
  uint32_t word = 0;
  uint8_t length = 4;
  std::optional<std::pair<uint8_t, uint64_t>> value;
  std::optional<uint32_t> suffix;  // a prefixed instruction's second word, copied with the first
  Branch branch = Branch::None;
};

// The jump plan for the instruction at ctx.site, displaced as
// `displaced`, with the records ctx.jump asks for; or why not.
// `why_not_displaced` is non-empty when the instruction cannot be
// displaced (the analyzer knows its class).
JumpBuild build_jump(const Displaced& displaced, const std::string& why_not_displaced, const SiteContext& ctx,
                     size_t slot_size);

}  // namespace uptrace::arch::ppc64le
