#include "core/event_loop.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "common/error.h"
#include "core/stop_cause.h"

namespace uptrace::core {

namespace {

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

EventLoop::EventLoop(Engine& e) : e_(e) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  one_cpu_ = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) == 1;
}

bool EventLoop::quit_signal_pending() const {
  sigset_t pending;
  sigpending(&pending);
  for (int s : e_.options.quit_signals)
    if (sigismember(&pending, s)) return true;
  // Taken by the interrupter's thread already.
  return interrupter_ && interrupter_->quit_signal() != 0;
}

bool EventLoop::finished() const {
  return e_.roots.empty() && (!e_.options.follow_forks || e_.session.processes().empty());
}

void EventLoop::run() {
  std::optional<uint64_t> deadline;
  if (e_.options.duration) deadline = e_.reporter.now_ns() + static_cast<uint64_t>(e_.options.duration->count());
  while (!e_.quit && !finished()) {
    if (!handle_ready(deadline)) break;
    // In chunks: a full ring takes long to format, and a quit signal must
    // not wait for all of it.
    const bool ring_backlog = e_.jump.drain_all(JumpHits::kDrainChunk);
    e_.jump.release_waiters();
    if (e_.quit || e_.reporter.done() || finished() || e_.session.processes().empty()) break;
    if (!e_.reporter.flush()) break;
    if (deadline && e_.reporter.now_ns() >= *deadline) break;
    wait_for_events(deadline, ring_backlog);
  }
  interrupter_.reset();
  (void)e_.reporter.flush();
}

bool EventLoop::handle_ready(std::optional<uint64_t> deadline) {
  // In rounds: every stop waitpid has ready is taken first, then each is
  // handled. waitpid(-1) reports the most recently attached tracees first,
  // so taken one at a time, threads that hit often kept the others (a
  // signal's stop, say) waiting in a ptrace-stop for as long as they hit.
  //
  // A round that starts with the stop wait_for_stop took ends the call: its
  // next wait in waitpid finds whatever came since. On one CPU, such a
  // round is that stop alone but for every kRoundEvery-th: the threads the
  // loop resumed mostly cannot run before it waits again, and the ones that
  // did, preempting it, wait at most that many stops.
  //
  // A round taken until waitpid had nothing more leaves every later stop a
  // SIGCHLD pending (wait_for_events wakes on it), so on one CPU, where the
  // threads just resumed have not run yet, the loop sleeps after the round
  // instead of asking waitpid for a next one that would come back empty:
  // a system call less per hit where hits cost mostly system calls.
  constexpr unsigned kRoundEvery = 16;
  std::vector<pid_t>& round = round_;
  for (unsigned handled = 0;;) {
    round.clear();
    const bool after_wait = !waited_.empty();
    round.swap(waited_);
    bool taken_to_empty = false;
    while (!after_wait || !one_cpu_ || waited_stops_ % kRoundEvery == 0) {
      bool no_tracees = false;
      std::optional<Stop> stop = e_.control.next_stop(ThreadControl::StopWait::Poll, no_tracees);
      if (no_tracees) {
        on_no_tracees();
        break;
      }
      if (!stop) {
        taken_to_empty = true;
        break;
      }
      if (Thread* t = record(*stop)) round.push_back(t->tid);
    }
    if (round.empty()) return true;
    const unsigned resumes_before = world_resumes_;
    for (pid_t tid : round) {
      // A stop of the world on the way (arming a library, say) ended by
      // handling every stop it found, these too.
      if (world_resumes_ != resumes_before) break;
      Thread* t = e_.session.thread(tid);
      if (t && t->stopped && t->pending && !e_.world_stopped) {
        const Stop stop = *t->pending;  // a copy: handling it resets the pending one
        dispatch(*t, stop);
      }
      if (e_.quit || e_.reporter.done() || finished()) return false;
      // Look at the clock and the quit signals now and then, so a busy
      // target cannot starve them.
      if (++handled % 256 == 0) {
        e_.jump.drain_all(JumpHits::kDrainChunk);
        if (!e_.reporter.flush() || quit_signal_pending() || (deadline && e_.reporter.now_ns() >= *deadline)) {
          e_.quit = true;
          return false;
        }
      }
    }
    if (after_wait || (one_cpu_ && taken_to_empty)) return true;
  }
}

void EventLoop::wait_for_events(std::optional<uint64_t> deadline, bool ring_backlog) {
  if (!e_.jump.any_ring() && wait_for_stop(deadline)) return;
  sigset_t waitset;
  sigemptyset(&waitset);
  sigaddset(&waitset, SIGCHLD);
  for (int s : e_.options.quit_signals) sigaddset(&waitset, s);
  // Jump probes report through rings nobody signals about: poll them.
  std::optional<uint64_t> wait_ns;
  if (e_.jump.any_ring()) wait_ns = ring_backlog ? 0 : JumpHits::kPollNs;
  if (deadline) wait_ns = std::min(wait_ns.value_or(UINT64_MAX), *deadline - std::min(*deadline, e_.reporter.now_ns()));
  // Rings may come after the interrupter started (a library loaded later),
  // which may have taken the quit signal this wait is for.
  if (interrupter_ && !interrupter_->begin_wait()) {
    take_interrupter_quit();
    return;
  }
  siginfo_t si;
  int sig;
  if (wait_ns) {
    timespec ts{static_cast<time_t>(*wait_ns / 1000000000ull), static_cast<long>(*wait_ns % 1000000000ull)};
    sig = ::sigtimedwait(&waitset, &si, &ts);
  } else {
    sig = ::sigwaitinfo(&waitset, &si);
  }
  if (interrupter_) {
    interrupter_->end_wait();
    take_interrupter_quit();
  }
  if (sig > 0 && sig != SIGCHLD) e_.quit = true;
}

void EventLoop::on_no_tracees() {
  e_.roots.clear();
  e_.result.target_exited = true;
}

void EventLoop::take_interrupter_quit() {
  if (interrupter_ && interrupter_->quit_signal()) e_.quit = true;
}

bool EventLoop::wait_for_stop(std::optional<uint64_t> deadline) {
  if (!interrupter_) {
    if (no_interrupter_) return false;
    std::optional<std::chrono::steady_clock::time_point> until;
    if (deadline)
      until = std::chrono::steady_clock::now() +
              std::chrono::nanoseconds(*deadline - std::min(*deadline, e_.reporter.now_ns()));
    try {
      interrupter_ = std::make_unique<WaitInterrupter>(e_.options.quit_signals, until);
    } catch (const Error&) {
      // No thread to be had (a process limit, say): tracing goes on with
      // the SIGCHLD wait, a system call or two more per stop.
      no_interrupter_ = true;
      return false;
    }
  }
  // Fired: a quit signal ends tracing here, the deadline in run().
  if (!interrupter_->begin_wait()) {
    take_interrupter_quit();
    return true;
  }
  bool no_tracees = false;
  std::optional<Stop> stop = e_.control.next_stop(ThreadControl::StopWait::UntilInterrupted, no_tracees);
  interrupter_->end_wait();
  take_interrupter_quit();
  if (no_tracees) {
    on_no_tracees();
    return true;
  }
  if (!stop) return true;
  ++waited_stops_;
  if (Thread* t = record(*stop)) waited_.push_back(t->tid);
  return true;
}

void EventLoop::handle(const Stop& stop) {
  Thread* t = record(stop);
  if (t && !e_.world_stopped) dispatch(*t, stop);
}

Thread* EventLoop::record(const Stop& stop) {
  Thread* t = e_.session.thread(stop.tid);
  if (!t) {
    if (stop.thread_gone()) return nullptr;
    return e_.lineage.on_new_tracee(stop.tid, stop, e_.world_stopped);
  }
  if (stop.thread_gone()) {
    on_thread_gone(*t, stop);
    return nullptr;
  }
  t->stopped = true;
  t->pending = stop;
  if (stop.kind == Stop::Kind::SyscallEntry) {
    // Never kept at a syscall-entry stop, not even until its round is
    // handled (the world may be stopped before that, to detach): borrowed
    // registers there would change the call about to run. Into it, and
    // stopped there instead if the world is stopped.
    if (e_.control.entered_syscall(*t) && e_.world_stopped) e_.control.interrupt(t->tid);
    return nullptr;
  }
  return t;
}

void EventLoop::dispatch(Thread& t, const Stop& stop) {
  switch (stop.kind) {
    case Stop::Kind::Exited:
    case Stop::Kind::Killed: on_thread_gone(t, stop); return;
    case Stop::Kind::Signal: on_signal(t, stop.signal); return;
    case Stop::Kind::GroupStop:
      // Job control: stay stopped until SIGCONT, without a ptrace-stop.
      e_.control.listen(t);
      return;
    case Stop::Kind::Fork:
    case Stop::Kind::Vfork:
    case Stop::Kind::Clone:
      e_.lineage.on_fork(t, stop);
      e_.stepper.resume(t);
      return;
    case Stop::Kind::Exec: e_.lineage.on_exec(t, e_.main_pid); return;
    case Stop::Kind::VforkDone:
      if (Process* p = e_.session.process(t.pid)) e_.jump.on_vfork_done(*p, t.tid);
      e_.stepper.resume(t);
      return;
    case Stop::Kind::SyscallEntry: e_.control.entered_syscall(t); return;
    case Stop::Kind::Interrupt:
    case Stop::Kind::Exit: e_.stepper.resume(t); return;
  }
}

void EventLoop::on_signal(Thread& t, int signal) {
  Process* p = e_.session.process(t.pid);
  AddressSpace* space = p ? p->space.get() : nullptr;
  // Not ours and no slot it could be in: on its way, unchanged, without a
  // look at its registers.
  if (signal != SIGTRAP && t.xol == XolState::Idle && !(space && space->free_running)) {
    e_.control.run(t, signal);
    return;
  }
  StopFacts facts{signal, {}, 0};
  arch::Regs regs;
  if (!e_.control.siginfo(t.tid, facts.si) || !e_.control.regs(t.tid, regs)) return;
  facts.pc = e_.isa.pc(regs);
  const Classified c = classify(e_.isa, e_.control.step_mechanism(), t, space, facts);
  switch (c.cause) {
    case StopCause::ProbeTrap: on_probe_hit(t, *p, static_cast<uint32_t>(c.site), regs); return;
    case StopCause::ReturnTrap: on_return_trap(t, *p, regs); return;
    case StopCause::RingFull: e_.jump.on_ring_full(t, c.trap); return;
    case StopCause::ForeignTrap:  // the program's own trap, with its own siginfo
    case StopCause::PlainSignal: e_.control.run(t, signal); return;
    default: e_.stepper.on_stop(t, *space, c, facts.si, regs); return;
  }
}

void EventLoop::report(Thread& t, Process& proc, const ArmedSite& site, ProbeRole role, const arch::Regs& regs,
                       uint64_t pc, uint64_t now_ns, std::optional<uint64_t> entry_ns) {
  if (!e_.reporter.reporting() || !proc.report_hits) return;
  // Jump probes' records from before this hit are reported before it.
  e_.jump.drain(proc);
  e_.reporter.report_stop(t, *proc.space, site, role, regs, pc, now_ns, entry_ns, e_.returns);
}

void EventLoop::on_probe_hit(Thread& t, Process& proc, uint32_t site_index, arch::Regs& regs) {
  AddressSpace& space = *proc.space;
  const ArmedSite& site = space.sites[site_index];
  e_.isa.set_pc(regs, site.addr.value);
  // One stamp for the hit and, with %return, its frame: a return's duration
  // is then exactly the difference of the two hits' times.
  const uint64_t now = e_.reporter.stop_time(proc.jump.ring != nullptr);
  report(t, proc, site, ProbeRole::Entry, regs, site.addr.value, now);
  // Before the displaced instruction runs: it may move the stack pointer.
  e_.returns.on_site_hit(t, space, site_index, regs, now);
  if (std::any_of(site.probes.begin(), site.probes.end(),
                  [](const ArmedSite::Probe& p) { return p.role == ProbeRole::LoaderEvent; })) {
    // It may arm (space.sites grows: `site` is not used past here) and
    // stops and resumes the other threads.
    const pid_t tid = t.tid;
    e_.loader.on_event(t, proc, *this);
    if (!e_.session.thread(tid)) return;
  }
  e_.stepper.begin(t, space, site_index, regs);
}

void EventLoop::on_return_trap(Thread& t, Process& proc, arch::Regs& regs) {
  std::vector<Thread*> others;
  for (Thread* other : e_.session.threads_of(t.pid))
    if (other->tid != t.tid) others.push_back(other);
  std::vector<ReturnFrame> frames = e_.returns.on_trampoline(t, *proc.space, regs, others);
  if (frames.empty()) {
    // Its return address is lost: as the kernel does, the thread gets a
    // fatal signal rather than run on from a wrong place.
    e_.status(fmt::format("warning: thread {} of pid {} returned through uptrace's return trampoline with no "
                          "record of its return address",
                          t.tid, t.pid));
    e_.control.run(t, SIGILL);
    return;
  }
  const uint64_t now = e_.reporter.stop_time(proc.jump.ring != nullptr);
  for (const ReturnFrame& f : frames)
    report(t, proc, proc.space->sites[f.site], ProbeRole::Return, regs, f.orig_ret, now, f.entry_ns);
  if (!e_.control.set_regs(t.tid, regs)) return;
  e_.control.run(t);
}

void EventLoop::on_thread_gone(Thread& t, const Stop& stop) {
  const pid_t tid = t.tid, pid = t.pid;
  // Its records go before it does.
  if (Process* p = e_.session.process(pid)) e_.jump.drain(*p);
  e_.session.remove_thread(tid);
  if (tid != pid) return;
  // The leader reports last: the whole process is gone, and with it every
  // writer of its ring.
  if (Process* p = e_.session.process(pid)) e_.jump.finish(*p);
  e_.session.remove_process(pid);
  if (!e_.roots.erase(pid)) return;
  if (pid == e_.main_pid) {
    e_.result.exit_code = stop.kind == Stop::Kind::Exited ? stop.exit_code : 0;
    e_.result.term_signal = stop.kind == Stop::Kind::Killed ? stop.signal : 0;
  }
  e_.result.target_exited = e_.roots.empty();
  // A launched command's normal exit is its own business (its status is
  // ours); a death by signal is worth a line in both modes.
  if (stop.kind == Stop::Kind::Killed)
    e_.status(fmt::format("pid {} was killed by {}", pid, signal_name(stop.signal)));
  else if (!e_.launched)
    e_.status(fmt::format("pid {} exited with status {}", pid, stop.exit_code));
}

void EventLoop::stop_world() {
  e_.world_stopped = true;
  for (auto& [tid, t] : e_.session.threads())
    if (!t.stopped) e_.control.interrupt(tid);
  for (;;) {
    auto& threads = e_.session.threads();
    if (std::all_of(threads.begin(), threads.end(), [](auto& kv) { return kv.second.stopped; })) break;
    bool no_tracees = false;
    std::optional<Stop> stop = e_.control.next_stop(ThreadControl::StopWait::Block, no_tracees);
    if (no_tracees) {
      e_.session.clear();
      break;
    }
    if (stop) handle(*stop);
  }
}

void EventLoop::resume_world() {
  e_.world_stopped = false;
  ++world_resumes_;
  for (pid_t tid : e_.session.tids()) {
    Thread* t = e_.session.thread(tid);
    if (!t || !t->stopped) continue;
    dispatch(*t, t->pending.value_or(Stop{Stop::Kind::Interrupt, tid}));
  }
  // Children that stopped while the world was stopped.
  e_.lineage.settle_early_children();
}

}  // namespace uptrace::core
