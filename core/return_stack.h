#pragma once
// One thread's pending hijacked returns (FUNC%return), newest last, and the
// rule that pairs a trap at the return trampoline with the entry it belongs
// to. Plain data and pure logic: core/return_probes.h does the reading and
// writing of the target.
//
// Pairing is by exact stack position, not by order: a return that comes back
// through the trampoline with stack pointer SP belongs to the newest frame
// whose caller's stack pointer after the return is SP. A return slot can
// hold only one value, and the newest hijack of a slot is the one whose
// trampoline address a `ret` can pop from it, so this holds whatever the
// program did in between: longjmp past hijacked frames (they stay behind,
// dead, until dropped), recursion (every level has its own slot), signal
// handlers, and switching between stacks (ucontext, coroutines: frames of
// another stack are never mistaken for the one returning).
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace uptrace::core {

struct ReturnFrame {
  uint64_t orig_ret = 0;  // the real return address
  // The stack word that holds the trampoline: the return address's own at
  // the entry (x86-64), or where the prologue saves it (aarch64, which gets
  // there only once the prologue has run); 0 when the function never saves
  // it and it stays in the register.
  uint64_t slot = 0;
  uint64_t entry_sp = 0;  // the stack pointer at the entry
  uint64_t sp_after = 0;  // the caller's stack pointer once it has returned
  uint32_t site = 0;      // the ArmedSite whose Return probes report
  // When the entry was hit, on the clock hits are stamped with: the return's
  // stamp minus this is the call's duration (Hit::duration_ns()).
  uint64_t entry_ns = 0;
  // Entered by a tail call while its return address already was the
  // trampoline: it returns together with the frame that hijacked it first,
  // the newest one entered with the same stack pointer (its owner).
  bool chained = false;
  // The slot holds the trampoline. False while the program's unwinder walks
  // the stack (the real address is put back for it).
  bool armed = true;
  // The return address was in a register at the entry (aarch64): it is in
  // the slot only between the prologue and the epilogue, and a tail call
  // takes it from the register again, to wherever the callee saves it. A
  // slot without the trampoline therefore does not prove such a frame dead.
  bool moves = false;
};

class ReturnStack {
 public:
  // As the kernel's MAX_URETPROBE_DEPTH: deeper nesting is not hijacked
  // (and counted), so a runaway recursion cannot grow this without bound.
  static constexpr size_t kMaxDepth = 64;

  const std::vector<ReturnFrame>& frames() const { return frames_; }
  std::vector<ReturnFrame>& frames() { return frames_; }
  size_t size() const { return frames_.size(); }
  bool empty() const { return frames_.empty(); }
  bool full() const { return frames_.size() >= kMaxDepth; }
  void clear() { frames_.clear(); }
  void push(const ReturnFrame& f) { frames_.push_back(f); }

  // The newest armed frame whose slot is `slot`, or null.
  const ReturnFrame* newest_at_slot(uint64_t slot) const;
  // The newest armed frame entered with stack pointer `entry_sp`, or null:
  // the owner of a tail call entered there.
  const ReturnFrame* newest_at_entry(uint64_t entry_sp) const;
  // The newest armed frame entered at or above stack pointer `sp`: the
  // function a thread whose stack pointer is `sp` is running, when its entry
  // was hijacked and it has not returned. Null when there is none.
  const ReturnFrame* innermost(uint64_t sp) const;
  // The frames returning now to a caller whose stack pointer is `sp`: the
  // newest armed frame with that sp_after, then (for a tail-call chain) the
  // frames it was chained to, innermost first. They are removed. Empty when
  // no frame matches.
  std::vector<ReturnFrame> pop_returning(uint64_t sp);
  // Removes the frames for which `dead` is true; returns how many.
  size_t drop_if(const std::function<bool(const ReturnFrame&)>& dead);

 private:
  std::vector<ReturnFrame> frames_;
};

}  // namespace uptrace::core
