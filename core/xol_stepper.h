#pragma once
// Running a probe's displaced instruction out of line, per thread, with the
// state explicit (Thread::xol): begin a hit with the site's plan, end the
// step of its copy (StepDone), undo it when the copy faults, hold every
// other signal until it is done (DESIGN rule 5), and get threads out of
// free-running (boost, jump) slots where a signal found them. At detach the
// same, synchronously. gdb's displaced stepping, with the plan as its
// closure: the per-thread StepState travels from begin_hit to finish_step.
#include <functional>

#include "arch/isa.h"
#include "core/address_space.h"
#include "core/stop_cause.h"
#include "core/thread.h"
#include "core/thread_control.h"

namespace uptrace::core {

class XolStepper {
 public:
  explicit XolStepper(ThreadControl& control) : control_(control), isa_(control.isa()) {}

  // A probe trap with `regs` as at the site (pc = the site): the plan
  // emulates the instruction, or moves the thread into its slot, which is
  // then stepped (StepMechanism) or runs free (boost).
  void begin(Thread& t, AddressSpace& space, uint32_t site, arch::Regs& regs);
  // A stop whose cause is one of the step's or the slots' (StepDone ...
  // LeftSlot); the thread is resumed as the cause says.
  void on_stop(Thread& t, AddressSpace& space, const Classified& c, siginfo_t& si, arch::Regs& regs);
  // Resumes a thread after a stop that was not about its step (an event,
  // an interrupt): a step in progress goes on, held signals are delivered.
  void resume(Thread& t, int signal = 0);
  void deliver_held_signals(Thread& t);

  // Detach: finish a step in progress, holding what arrives. The thread's
  // pending stop is left an interrupt (or its exit).
  void complete(Thread& t, AddressSpace& space);
  // Detach: a thread inside a free-running slot is moved to the equivalent
  // original address, or stepped until it is out. `ring_full` is called
  // when it stops at a jump trampoline's ring-full trap: it must make room
  // and let the thread past the trap.
  // `ring_full` returns false when the ring has no room yet (another
  // thread's unpublished record holds it): the thread then stays at its
  // trap, and leave_slot says Blocked, to be called again once the others
  // are out.
  using RingFullHandler = std::function<bool(Thread&, RuntimeAddr trap)>;
  enum class Leaving : uint8_t { Out, Blocked, Stuck };
  Leaving leave_slot(Thread& t, AddressSpace& space, const RingFullHandler& ring_full);

 private:
  // The step is done: pc and whatever the copy changed are fixed up.
  bool finish(Thread& t, AddressSpace& space, RuntimeAddr trap, arch::Regs& regs);
  // The copy faulted: the thread is put back at the probe address, so the
  // fault is delivered there, as if there were no probe.
  void abort(Thread& t, const AddressSpace& space, siginfo_t& si, arch::Regs& regs);
  // A fault where a free-running slot's state maps back to `original`.
  void deliver_fault_at(Thread& t, uint64_t original, siginfo_t& si, arch::Regs& regs);
  void hold_and_step_out(Thread& t, bool hold, const siginfo_t& si);
  // Leaving a free-running slot where the core cannot single-step: the
  // plan's SlotExit for the thread's pc (regs) is applied, pc set, and the
  // thread marked Stepping when the exit is a step of the copy's stepped
  // form (not yet resumed). False when the plan has none.
  bool start_slot_exit(Thread& t, const AddressSpace& space, int site, arch::Regs& regs);
  // The same from a signal stop in the event loop; the signal is held
  // already, and is delivered once the thread is out.
  void exit_slot(Thread& t, AddressSpace& space, int site, arch::Regs& regs);
  // One synchronous step of `t` and its stop, left in t.pending; false when
  // the thread is gone (its exit is then the pending stop).
  bool step_and_wait(Thread& t, bool single);
  Classified classify_pending(Thread& t, const AddressSpace& space, siginfo_t& si, arch::Regs& regs);

  ThreadControl& control_;
  const arch::Isa& isa_;
};

}  // namespace uptrace::core
