#pragma once
// FUNC%return by return-address hijack, as the kernel's uretprobes do
// (kernel/events/uprobes.c: prepare_uretprobe, handle_trampoline): at the
// function's entry the return address is replaced by the address of a trap
// in uptrace's scratch mapping (the trampoline), and the real one is kept on
// the thread's ReturnStack. A trap at the trampoline is a return: it is
// paired with its entry by stack position (core/return_stack.h), reported,
// and the thread goes on at the real return address.
//
// Where the return address is depends on the ISA (arch::ReturnAddressSlot):
// - in memory at the entry (x86-64, [rsp]): replaced there, and that word
//   (the frame's slot) holds the trampoline until the return;
// - in a register at the entry (aarch64, x30): replaced in the register; the
//   prologue then saves the trampoline to the stack word the function's CFI
//   names (ArmedSite::return_spill, the frame's slot), and the epilogue loads
//   it back before `ret`. Between the entry and the save the slot does not
//   hold it yet, and a function that never saves it (a leaf) has no slot:
//   then the register is where it is. Such frames are never judged dead by
//   their slot alone (see `dead` in the .cpp), and detach puts the real
//   address back into the register too (restore_register), and into any
//   other stack word where it was saved meanwhile (restore_moved).
//
// The rest is keeping the target safe while return addresses are not what
// the program wrote:
// - depth: at most ReturnStack::kMaxDepth pending per thread; deeper entries
//   are not hijacked and counted (take_summary()).
// - unwinders: a C++ throw walks the stack by return addresses and has no
//   unwind entry for the trampoline (std::terminate). Like uftrace's
//   __cxa_throw/__cxa_begin_catch wrappers, but with traps: when the
//   program's unwinder starts (_Unwind_RaiseException and friends) the real
//   addresses go back; when a catch begins (__cxa_begin_catch), the frames
//   still live above it are hijacked again.
// - detach: a thread at the trampoline is moved to its return address and
//   every slot that still holds the trampoline gets the real address back,
//   before the scratch mapping goes.
// - fork: the child's copy of the stack holds the trampoline too; a
//   followed child inherits the forking thread's frames, any other child gets
//   the real addresses written into its copy before it runs.
// Stack slots are data, not code, so they are not in the PatchJournal: the
// ReturnStack is their record.
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "common/memory.h"
#include "core/address_space.h"
#include "core/thread.h"

namespace uptrace::core {

class ReturnProbes {
 public:
  explicit ReturnProbes(const arch::Isa& isa) : isa_(isa) {}

  // A trap at a site that has probes of uptrace's own roles (Return,
  // UnwindStart, CatchStart), with regs as at the site, before its
  // displaced instruction runs. A return address held in a register is
  // replaced in `regs`, which the caller writes back. `now_ns`: the hit's
  // time, kept with the frame for the duration of the call.
  void on_site_hit(Thread& t, AddressSpace& space, uint32_t site_index, arch::Regs& regs, uint64_t now_ns = 0);

  // A trap at the trampoline (regs as after the `ret` that popped it). Moves
  // the pc to the real return address and returns the frames returning now,
  // innermost first. When the thread's own stack has no match, `others` (the
  // other threads of the address space) are searched: a coroutine may be
  // resumed by another thread. Empty: nothing is known of this return.
  std::vector<ReturnFrame> on_trampoline(Thread& t, AddressSpace& space, arch::Regs& regs,
                                         std::span<Thread* const> others);

  // Detach: `t` stands at the trampoline (`regs` pc is the trampoline, or
  // after it with our SIGTRAP): move it to its real return address. False
  // when no frame matches (then it cannot go on once the trampoline is gone).
  bool leave_trampoline(Thread& t, arch::Regs& regs, RuntimeAddr trampoline);
  // Detach: puts the real return address back into every slot of `stack`
  // that still holds the trampoline. Returns how many writes failed.
  size_t restore(ReturnStack& stack, MemoryAccess& mem, RuntimeAddr trampoline);
  // Detach, before restore(): when the ISA keeps the return address in a
  // register and `regs` (the thread's, stopped) hold the trampoline there,
  // the thread is in a hijacked function that has not saved it yet, or never
  // does, or has loaded it back: the real address of that function's frame
  // (the innermost at the thread's stack pointer) goes back, into the link
  // register and into every other register that holds the trampoline (a
  // copy on its way to the stack: ppc64's mflr r0). True when `regs`
  // changed.
  bool restore_register(const Thread& t, arch::Regs& regs, RuntimeAddr trampoline) const;
  // Detach, before restore(), where return addresses move (aarch64): a
  // hijacked function that tail-called one uptrace does not probe handed it
  // the trampoline in the register, and that callee saved it in its own
  // frame (ppc64: in the LR save doubleword at its entry sp + 16, the
  // hijacked frame's own); a signal frame saves it too. Every word of the
  // thread's stack from `sp` up to the highest entry sp of its frames (plus
  // the ABI's save offset) below `limit` (the end of the mapping that holds
  // sp; at most kMaxScan bytes) that holds the trampoline gets the real
  // address of its frame: the one whose ABI save place it is
  // (arch::ReturnAddressSlot::abi_save_offset), else the innermost one
  // entered above it. Returns how many it fixed.
  size_t restore_moved(const ReturnStack& stack, uint64_t sp, uint64_t limit, MemoryAccess& mem,
                       RuntimeAddr trampoline) const;
  static constexpr uint64_t kMaxScan = 1 << 20;

  // Fork, at the parent's fork stop: remember what the child's copy of the
  // stacks holds. `forking` is the thread that forked, `all` every thread
  // of the process (the child's memory has copies of their stacks too).
  void note_fork(pid_t child, const Thread& forking, std::span<const Thread* const> all);
  // A child that is let go: its copy of the stacks gets the real addresses.
  void release_child(pid_t child, MemoryAccess& child_memory, RuntimeAddr trampoline);
  // A followed child: its thread continues the forking thread's frames;
  // the copies of the other threads' stacks get the real addresses.
  void adopt_child(pid_t child, Thread& child_thread, MemoryAccess& child_memory, RuntimeAddr trampoline);

  // For --stack: what the word at `addr` holds once this thread's hijacks
  // are undone (the trampoline read from a slot is its real address).
  uint64_t real_value(const Thread& t, uint64_t addr, uint64_t value, RuntimeAddr trampoline) const;
  // For --stack: what a register of the stopped thread holds once its
  // hijacks are undone (the trampoline in the link register is the real
  // return address of the innermost frame at stack pointer `sp`).
  uint64_t real_register(const Thread& t, uint64_t sp, uint64_t value, RuntimeAddr trampoline) const;

  // Lines for the end of tracing, e.g. "12 returns not traced (nesting
  // deeper than 64)"; empty when nothing was missed. Once: the counts are
  // reset.
  std::vector<std::string> take_summary();

 private:
  void hijack(Thread& t, AddressSpace& space, uint32_t site_index, arch::Regs& regs, uint64_t now_ns);
  // After a return through the trampoline: a register that still holds the
  // trampoline gets the real address, as the real return would have left it.
  void unhijack_register(arch::Regs& regs, uint64_t trampoline, uint64_t orig_ret) const;
  void unwind_starts(Thread& t, AddressSpace& space);
  void catch_begins(Thread& t, AddressSpace& space, const arch::Regs& regs);

  struct ForkCopy {
    ReturnStack forking;            // the forking thread's frames
    std::vector<ReturnFrame> rest;  // every other thread's
  };

  const arch::Isa& isa_;
  std::map<pid_t, ForkCopy> forks_;
  uint64_t too_deep_ = 0;        // entries not hijacked: kMaxDepth pending
  uint64_t unreadable_ = 0;      // entries whose return slot could not be read or written
  uint64_t unknown_chain_ = 0;   // a tail call over a trampoline nobody owns
  uint64_t unmatched_ = 0;       // trampoline traps with no frame
};

}  // namespace uptrace::core
