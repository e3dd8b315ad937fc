#pragma once
// What the tracer knows about one traced thread.
#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <vector>

#include "arch/isa.h"
#include "core/return_stack.h"
#include "core/stop.h"

namespace uptrace::core {

struct Thread {
  pid_t tid = 0;
  pid_t pid = 0;  // its process (thread group)
  // In a ptrace-stop the tracer has seen and not yet resumed (only while the
  // world is stopped; otherwise stops are handled at once).
  bool stopped = false;
  std::optional<Stop> pending;
  // Stepping the displaced instruction of this site out of line (-1: not).
  int stepping_site = -1;
  arch::StepState step;
  // Being stepped out of a boost or jump slot, where a signal found it; the
  // held signals are delivered once it is out.
  bool leaving_slot = false;
  unsigned slot_steps = 0;
  // Stopped on a jump trampoline's ring-full trap at this address, waiting
  // for uptrace's reader to make room before it tries again.
  std::optional<RuntimeAddr> waiting_for_ring;
  // Signals that arrived during a step, delivered once it completes (rule 5).
  std::vector<siginfo_t> held_signals;
  // Its pending hijacked returns (FUNC%return).
  ReturnStack returns;
};

}  // namespace uptrace::core
