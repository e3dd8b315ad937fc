#pragma once
// What the tracer knows about one traced thread.
#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <vector>

#include "arch/isa.h"
#include "common/address.h"
#include "core/return_stack.h"
#include "core/stop.h"

namespace uptrace::core {

// Where a thread is in running a displaced instruction out of line
// (core/xol_stepper.h), the kernel's per-task uprobe state.
enum class XolState : uint8_t {
  Idle,         // in the program's own code (or an emulated hit: no slot)
  Stepping,     // running the copy in `stepping_site`'s slot; a step-done stop ends it
  LeavingSlot,  // found in a free-running (boost, jump) slot by a signal: single-stepped until out
                // (without single-step, the plan's SlotExit says where it goes, or what it steps)
};

struct Thread {
  pid_t tid = 0;
  pid_t pid = 0;  // its process (thread group)
  // In a ptrace-stop the tracer has seen and not yet resumed (only while the
  // world is stopped, or while the thread waits for something; otherwise
  // stops are handled at once).
  bool stopped = false;
  std::optional<Stop> pending;
  XolState xol = XolState::Idle;
  int stepping_site = -1;  // Stepping: the site whose copy runs
  // Stepping: where that copy starts (the slot's start; or, leaving a boost
  // slot without single-step, its stepped form): a fault there is the copy's.
  uint64_t stepping_from = 0;
  arch::StepState step;    // Stepping: the plan's state, from begin_hit to finish_step / abort_step
  unsigned slot_steps = 0;  // LeavingSlot: steps so far
  // Stopped on a jump trampoline's ring-full trap at this address, waiting
  // for uptrace's reader to make room before it tries again.
  std::optional<RuntimeAddr> waiting_for_ring;
  // Set when uptrace borrowed the thread (RemoteSyscalls) and put it back on
  // a system call instruction the kernel had already rewound it to for a
  // restart (Isa::decides_restart_before_stop): the program's signal mask,
  // while the thread's own is blocked. Signal delivery would otherwise run a
  // handler before that call restarts, not interrupt it with EINTR (a pause()
  // woken by it never returns); ThreadControl runs it into the call first
  // and gives the mask back at the call's entry.
  std::optional<uint64_t> mask_until_syscall;
  // Borrowed from a group-stop (its pending stop still says GroupStop): the
  // steps took it out, and PTRACE_LISTEN cannot put it back
  // (ThreadControl::listen).
  bool out_of_group_stop = false;
  // For the earliest stop signal in held_signals: the SIGCONTs seen by then
  // (Stop::sigconts_seen; ThreadControl::hold).
  uint64_t held_stop_sigconts = 0;
  // Signals that arrived during a step, delivered once it completes (rule 5).
  std::vector<siginfo_t> held_signals;
  // Its pending hijacked returns (FUNC%return).
  ReturnStack returns;

  bool stepping() const { return xol == XolState::Stepping; }
};

}  // namespace uptrace::core
