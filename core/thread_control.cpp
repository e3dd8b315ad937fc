#include "core/thread_control.h"

#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "common/error.h"
#include "core/proc_info.h"
#include "core/ptrace.h"

namespace uptrace::core {

int ThreadControl::seize(pid_t tid) { return ptrace::seize(tid, ptrace::default_options()); }

bool ThreadControl::interrupt(pid_t tid) { return ptrace::interrupt(tid); }

bool ThreadControl::detach(pid_t tid, int signal) { return ptrace::detach(tid, signal); }

bool ThreadControl::detach(Thread& t, int signal) {
  if (t.mask_until_syscall) {
    // Into the call before it goes, as run() would have let it; a signal
    // to deliver is blocked now, so the kernel queues it again for then.
    bool running = ptrace::run_to_syscall(t.tid, signal);
    signal = 0;
    while (running) {
      const Stop stop = wait_stop(t.tid);
      if (stop.thread_gone()) return false;
      // Stopped by job control on the way: it goes stopped, and a handler
      // may yet run before the call (what its restart would have prevented).
      if (stop.kind == Stop::Kind::SyscallEntry || stop.kind == Stop::Kind::GroupStop) break;
      running = ptrace::run_to_syscall(t.tid, stop.kind == Stop::Kind::Signal ? stop.signal : 0);
    }
    if (!running) return false;
    if (!ptrace::set_sigmask(t.tid, *t.mask_until_syscall)) return false;
    t.mask_until_syscall.reset();
  }
  return ptrace::detach(t.tid, signal);
}

void ThreadControl::kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  for (int status; ::waitpid(pid, &status, __WALL) > 0 || errno == EINTR;) {
  }
}

int ThreadControl::wait_for_exit(pid_t pid) {
  // Any of our tracees, not only pid: a thread still attached (one the
  // detach never saw) that exits is a zombie until its tracer reaps it, and
  // the kernel reports the leader's exit only once every other thread is
  // reaped; waiting for pid alone would wait forever (seen with Go, whose
  // runtime starts threads until the end).
  for (;;) {
    int status = 0;
    const pid_t got = ::waitpid(-1, &status, __WALL);
    if (got < 0) {
      if (errno == EINTR) continue;
      return 0;  // ECHILD: nothing left to wait for
    }
    if (WIFSTOPPED(status)) {
      // Let a thread left attached go, with the signal it was due: none for
      // a ptrace event or the stop that began its tracing, and none for a
      // SIGTRAP, which in a thread uptrace never saw is its trap's and would
      // kill the program.
      const int sig = WSTOPSIG(status);
      ptrace::detach(got, (status >> 16) != 0 || sig == SIGSTOP || sig == SIGTRAP ? 0 : sig);
      continue;
    }
    if (got == pid) return status;
  }
}

Stop ThreadControl::decode(pid_t tid, int status) {
  Stop stop = Stop::from_wait_status(tid, status);
  if (Stop::needs_event_message(status)) {
    unsigned long msg = 0;
    if (ptrace::get_event_message(tid, msg)) stop.set_event_message(msg);
  }
  if (stop.kind == Stop::Kind::Signal && stop.signal == SIGCONT)
    last_sigcont_[proc::thread_group_of(tid)] = ++sigconts_seen_;
  stop.sigconts_seen = sigconts_seen_;
  return stop;
}

bool ThreadControl::at_signal_delivery_stop(pid_t tid) {
  // An event stop's si_code is its event << 8 | the signal it reports
  // (SIGTRAP, or a stop signal for a group-stop); a syscall-stop's is
  // SIGTRAP | 0x80.
  siginfo_t now{};
  return ptrace::get_siginfo(tid, now) && now.si_code <= 0xff &&
         !(now.si_signo == SIGTRAP && now.si_code == (SIGTRAP | 0x80));
}

bool is_stop_signal(int sig) { return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU; }

void ThreadControl::hold(Thread& t, const siginfo_t& info, std::optional<uint64_t> sigconts_seen, bool first) {
  if (is_stop_signal(info.si_signo) && std::none_of(t.held_signals.begin(), t.held_signals.end(), [](const siginfo_t& h) {
        return is_stop_signal(h.si_signo);
      }))
    t.held_stop_sigconts = sigconts_seen.value_or(t.pending ? t.pending->sigconts_seen : sigconts_seen_);
  t.held_signals.insert(first ? t.held_signals.begin() : t.held_signals.end(), info);
}

void ThreadControl::drop_cancelled_stop_signals(Thread& t) {
  auto stop_signal = [](const siginfo_t& h) { return is_stop_signal(h.si_signo); };
  if (std::none_of(t.held_signals.begin(), t.held_signals.end(), stop_signal)) return;
  auto last = last_sigcont_.find(t.pid);
  const bool continued = (last != last_sigcont_.end() && last->second > t.held_stop_sigconts) ||
                         proc::signal_pending(t.tid, SIGCONT);
  if (continued) std::erase_if(t.held_signals, stop_signal);
}

std::optional<Stop> ThreadControl::next_stop(StopWait how, bool& no_tracees) {
  no_tracees = false;
  for (;;) {
    int status = 0;
    const pid_t tid = ::waitpid(-1, &status, __WALL | (how == StopWait::Poll ? WNOHANG : 0));
    if (tid > 0) return decode(tid, status);
    if (tid == 0) return std::nullopt;
    if (errno == EINTR) {
      if (how == StopWait::UntilInterrupted) return std::nullopt;
      continue;
    }
    if (errno == ECHILD) {
      no_tracees = true;
      return std::nullopt;
    }
    throw_runtime("waitpid failed: {}", errno_text(errno));
  }
}

Stop ThreadControl::wait_stop(pid_t tid) {
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(tid, &status, __WALL);
    if (r == tid) return decode(tid, status);
    if (r < 0 && errno == EINTR) continue;
    throw_runtime("waiting for thread {} failed: {}", tid, errno_text(errno));
  }
}

void ThreadControl::mark_running(Thread& t) {
  t.stopped = false;
  t.pending.reset();
}

bool ThreadControl::run(Thread& t, int signal) {
  mark_running(t);
  // A signal to deliver is blocked now: the kernel queues it again, for the
  // call to see.
  if (t.mask_until_syscall) return ptrace::run_to_syscall(t.tid, signal);
  return ptrace::cont(t.tid, signal);
}

bool ThreadControl::entered_syscall(Thread& t) {
  if (t.mask_until_syscall) {
    if (!ptrace::set_sigmask(t.tid, *t.mask_until_syscall)) return false;
    t.mask_until_syscall.reset();
  }
  return run(t);
}

bool ThreadControl::step(Thread& t, int signal) {
  mark_running(t);
  if (mechanism_ == arch::StepMechanism::TrailingTrap) return ptrace::cont(t.tid, signal);
  return ptrace::single_step(t.tid, signal);
}

bool ThreadControl::single_step(Thread& t, int signal) {
  // Never asked for under TrailingTrap (free-running slots are left by the
  // plan's SlotExit there). Refused loudly rather than done: x86-64 could
  // single-step, and the trailing-trap run of its suite, which stands in
  // for riscv64 (where PTRACE_SINGLESTEP fails with EIO), would hide a path
  // that still needs one.
  if (mechanism_ != arch::StepMechanism::HardwareStep)
    throw_runtime("internal error: a single step of thread {} was asked for, but copies run to a trailing trap", t.tid);
  mark_running(t);
  return ptrace::single_step(t.tid, signal);
}

bool ThreadControl::listen(Thread& t) {
  mark_running(t);
  if (t.out_of_group_stop) {
    // Interrupted before it runs, it traps again at once: in the
    // group-stop if the process is still stopped, at a plain interrupt if
    // a SIGCONT came meanwhile (sending the stop signal again would stop
    // it after that SIGCONT).
    t.out_of_group_stop = false;
    return ptrace::interrupt(t.tid) && ptrace::cont(t.tid, 0);
  }
  return ptrace::listen(t.tid);
}

bool ThreadControl::regs(pid_t tid, arch::Regs& out) { return ptrace::get_regs(tid, isa_, out); }
bool ThreadControl::set_regs(pid_t tid, const arch::Regs& regs) { return ptrace::set_regs(tid, isa_, regs); }
bool ThreadControl::thread_pointer(pid_t tid, uint64_t& out) {
  if (auto regset = isa_.thread_pointer_regset()) return ptrace::get_regset_word(tid, *regset, out);
  arch::Regs regs;
  if (!ptrace::get_regs(tid, isa_, regs)) return false;
  out = isa_.thread_pointer(regs);
  return true;
}
bool ThreadControl::siginfo(pid_t tid, siginfo_t& out) { return ptrace::get_siginfo(tid, out); }
bool ThreadControl::set_siginfo(pid_t tid, const siginfo_t& info) { return ptrace::set_siginfo(tid, info); }
bool ThreadControl::signal_mask(pid_t tid, uint64_t& out) { return ptrace::get_sigmask(tid, out); }
bool ThreadControl::set_signal_mask(pid_t tid, uint64_t mask) { return ptrace::set_sigmask(tid, mask); }

void ThreadControl::requeue(pid_t pid, pid_t tid, const siginfo_t& info) {
  siginfo_t copy = info;
  if (::syscall(SYS_rt_tgsigqueueinfo, pid, tid, info.si_signo, &copy) != 0) ::syscall(SYS_tgkill, pid, tid, info.si_signo);
}

}  // namespace uptrace::core
