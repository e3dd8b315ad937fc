#pragma once
// Thread control: the only code that calls ptrace(2) (through core/ptrace.h)
// and waitpid(2) — .ci/check-ptrace-calls keeps it so. Every resumption goes
// through here, so a thread is marked stopped from the moment its stop is
// seen until it really runs again, even when handling the stop fails half
// way; and "step the copy" means the ISA's mechanism (arch::StepMechanism)
// wherever it is asked for.
#include <signal.h>
#include <sys/types.h>

#include <optional>
#include <unordered_map>

#include "arch/isa.h"
#include "core/stop.h"
#include "core/thread.h"

namespace uptrace::core {

// SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU: job control's.
bool is_stop_signal(int sig);

class ThreadControl {
 public:
  ThreadControl(const arch::Isa& isa, arch::StepMechanism mechanism) : isa_(isa), mechanism_(mechanism) {}

  const arch::Isa& isa() const { return isa_; }
  arch::StepMechanism step_mechanism() const { return mechanism_; }

  // --- attaching ---------------------------------------------------------
  // PTRACE_SEIZE with uptrace's options; returns errno (0 on success).
  int seize(pid_t tid);
  bool interrupt(pid_t tid);
  // Lets the thread go, delivering `signal`. False when it is gone.
  bool detach(pid_t tid, int signal = 0);
  // The same for a thread uptrace knows; one that must enter a system call
  // first (Thread::mask_until_syscall) is run into it, and has its mask back,
  // before it goes.
  bool detach(Thread& t, int signal = 0);
  // A child of uptrace's (a launched command): killed and reaped.
  void kill_and_reap(pid_t pid);
  // Waits for a child of uptrace's that is no longer traced to end; its
  // wait status. Threads of it still attached are let go on the way.
  int wait_for_exit(pid_t pid);

  // --- stops -------------------------------------------------------------
  // How next_stop waits: not at all, until a stop, or until a stop or a
  // signal handler interrupts the wait (core/wait_interrupter.h).
  enum class StopWait { Poll, Block, UntilInterrupted };
  // The next stop of any traced thread: nullopt when none is ready (Poll),
  // the wait was interrupted (UntilInterrupted) or no tracee is left
  // (`no_tracees` set).
  std::optional<Stop> next_stop(StopWait how, bool& no_tracees);
  // Blocks for the next stop of one thread.
  Stop wait_stop(pid_t tid);

  // --- resuming a stopped thread ------------------------------------------
  // Lets the program run on (PTRACE_SYSCALL instead when the thread must
  // enter a system call first: see Thread::mask_until_syscall).
  bool run(Thread& t, int signal = 0);
  // At the syscall-entry stop run() asked for: the program's mask back, and on.
  bool entered_syscall(Thread& t);
  // Runs the displaced copy (or a borrowed syscall instruction) to its end:
  // one PTRACE_SINGLESTEP, or continue to the trap after it.
  bool step(Thread& t, int signal = 0);
  // One instruction exactly, for leaving a free-running slot. Only where the
  // ISA single-steps in hardware (under TrailingTrap it throws: the plan's
  // SlotExit is the way out there).
  bool single_step(Thread& t, int signal = 0);
  bool listen(Thread& t);
  // Only a signal-delivery-stop delivers the signal a resumption (or a
  // detach) names; a ptrace-event stop (an interrupt, the end of a
  // group-stop) or a syscall-stop drops it.
  bool at_signal_delivery_stop(pid_t tid);

  // --- a stopped thread's state --------------------------------------------
  bool regs(pid_t tid, arch::Regs& out);
  bool set_regs(pid_t tid, const arch::Regs& regs);
  // The thread pointer a jump trampoline names the thread by (Isa::
  // thread_pointer, or the word of Isa::thread_pointer_regset).
  bool thread_pointer(pid_t tid, uint64_t& out);
  bool siginfo(pid_t tid, siginfo_t& out);
  bool set_siginfo(pid_t tid, const siginfo_t& info);
  bool signal_mask(pid_t tid, uint64_t& out);
  bool set_signal_mask(pid_t tid, uint64_t mask);

  // Queues `info` for the thread again (a signal that arrived while another
  // is being delivered), keeping its siginfo where the kernel allows it.
  static void requeue(pid_t pid, pid_t tid, const siginfo_t& info);
  // Keeps a signal that arrived during a step for later (DESIGN rule 5).
  // `sigconts_seen` is the stop's it arrived at (Stop::sigconts_seen); by
  // default the thread's pending stop's.
  void hold(Thread& t, const siginfo_t& info, std::optional<uint64_t> sigconts_seen = std::nullopt,
            bool first = false);
  // Before held signals are delivered: a SIGCONT sent since a stop signal
  // was held cancels it, as the kernel cancels a stop signal still queued
  // (and as it would have ignored it, had it been delivered from its own
  // stop); delivered from a later stop, or queued again, it would stop the
  // process after its SIGCONT.
  void drop_cancelled_stop_signals(Thread& t);

 private:
  Stop decode(pid_t tid, int status);
  void mark_running(Thread& t);

  const arch::Isa& isa_;
  arch::StepMechanism mechanism_;
  // SIGCONTs seen in signal-delivery-stops, and the count at each
  // process's latest (keyed by thread group).
  uint64_t sigconts_seen_ = 0;
  std::unordered_map<pid_t, uint64_t> last_sigcont_;
};

}  // namespace uptrace::core
