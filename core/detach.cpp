#include "core/detach.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/error.h"
#include "core/proc_info.h"
#include "core/remote_syscalls.h"
#include "core/stop_cause.h"
#include "elf/module_map.h"

namespace uptrace::core {

void Detach::run() {
  // Jump hits recorded until the threads stop count. They are read from
  // uptrace's own mapping of each ring after the target is let go: a full
  // ring takes long to format, and the target must not wait for that (nor
  // for uptrace's end, when the front end was killed).
  const bool report = e_.reporter.reporting();
  e_.reporter.pause();
  e_.jump.hold(true);  // no drain on the way (a thread's exit, say) may consume them unreported
  for (const std::string& line : e_.returns.take_summary()) e_.status(line);
  if (!e_.session.no_threads()) {
    loop_.stop_world();
    release_new_children();
    surface_queued_traps();
    release_ring_writers();
    complete_steps();
    leave_free_running_slots();
    rewind_probe_traps();
    release_returns();
    restore_code();
    let_go();
  }
  read_rings(report);
  e_.session.clear();
  e_.world_stopped = false;
}

void Detach::release_new_children() {
  for (pid_t tid : e_.session.tids()) {
    Thread* t = e_.session.thread(tid);
    if (!t || !t->pending) continue;
    const Stop::Kind k = t->pending->kind;
    if (k == Stop::Kind::Fork || k == Stop::Kind::Vfork || k == Stop::Kind::Clone) e_.lineage.release_child_of(*t);
  }
}

// PTRACE_INTERRUPT is reported before a signal already queued, so a thread
// may show an interrupt-stop right after our trap or step with its SIGTRAP
// still pending. Detached like that, it would die of that SIGTRAP: let the
// signal surface as a stop of its own, to be handled below.
void Detach::surface_queued_traps() {
  for (pid_t tid : e_.session.tids()) {
    Thread* t = e_.session.thread(tid);
    if (!t || !t->pending || t->pending->kind == Stop::Kind::Signal || !proc::thread_signal_pending(tid, SIGTRAP))
      continue;
    if (!e_.control.run(*t)) continue;
    const Stop next = e_.control.wait_stop(tid);
    t->stopped = true;
    t->pending = next;
  }
  reap_gone();
}

void Detach::release_ring_writers() {
  for (pid_t tid : e_.session.tids()) {
    Thread* t = e_.session.thread(tid);
    Process* p = t ? e_.session.process(t->pid) : nullptr;
    if (!p || !t->pending || t->pending->kind != Stop::Kind::Signal || t->pending->signal != SIGTRAP) continue;
    StopFacts facts{SIGTRAP, {}, 0};
    arch::Regs regs;
    if (!e_.control.siginfo(tid, facts.si) || !e_.control.regs(tid, regs)) continue;
    facts.pc = e_.isa.pc(regs);
    const Classified c = classify(e_.isa, e_.control.step_mechanism(), *t, p->space.get(), facts);
    // While another thread's unpublished record holds the ring, the writer
    // waits at its trap; leave_free_running_slots comes back to it.
    if (c.cause == StopCause::RingFull) e_.jump.make_room_now(*t, c.trap);
  }
}

// No thread may be left inside a slot (rule 2).
void Detach::complete_steps() {
  for (pid_t tid : e_.session.tids()) {
    Thread* t = e_.session.thread(tid);
    Process* p = t ? e_.session.process(t->pid) : nullptr;
    if (p && p->space && t->stepping()) e_.stepper.complete(*t, *p->space);
  }
  reap_gone();
}

// In rounds: a writer waiting for room in a full ring gets it only once the
// thread whose reservation holds the ring's tail has published it, which it
// does while it is stepped out; so the waiting ones come back until none is
// left or a round frees none of them.
void Detach::leave_free_running_slots() {
  auto ring_full = [&](Thread& t, RuntimeAddr trap) { return e_.jump.make_room_now(t, trap); };
  std::vector<pid_t> todo;
  for (pid_t tid : e_.session.tids()) {
    Thread* t = e_.session.thread(tid);
    Process* p = t ? e_.session.process(t->pid) : nullptr;
    if (p && p->space && p->space->free_running) todo.push_back(tid);
  }
  while (!todo.empty()) {
    std::vector<pid_t> blocked;
    for (pid_t tid : todo) {
      Thread* t = e_.session.thread(tid);
      Process* p = t ? e_.session.process(t->pid) : nullptr;
      if (!p || !p->space) continue;
      const XolStepper::Leaving how = e_.stepper.leave_slot(*t, *p->space, ring_full);
      if (how == XolStepper::Leaving::Blocked) blocked.push_back(tid);
      if (how == XolStepper::Leaving::Stuck) {
        e_.status(fmt::format("warning: thread {} could not be moved out of a slot", tid));
        stuck_.insert(t->pid);
      }
    }
    if (blocked.size() == todo.size()) {
      for (pid_t tid : blocked) {
        e_.status(fmt::format("warning: thread {} waits for room in a jump ring that no thread frees", tid));
        if (Thread* t = e_.session.thread(tid)) stuck_.insert(t->pid);
      }
      break;
    }
    todo = std::move(blocked);
  }
  reap_gone();
}

// A thread stopped on one of our traps executes the original instruction
// once the code is restored.
void Detach::rewind_probe_traps() {
  for (pid_t tid : e_.session.tids()) {
    Thread* t = e_.session.thread(tid);
    Process* p = t ? e_.session.process(t->pid) : nullptr;
    if (!p || !p->space || !t->pending || t->pending->kind != Stop::Kind::Signal || t->pending->signal != SIGTRAP)
      continue;
    siginfo_t si{};
    arch::Regs regs;
    if (!e_.control.siginfo(tid, si) || !e_.control.regs(tid, regs)) continue;
    auto bp = e_.isa.breakpoint_address(e_.isa.pc(regs), si.si_code);
    if (bp && p->space->site_index(*bp) >= 0) {
      e_.isa.set_pc(regs, bp->value);
      e_.control.set_regs(tid, regs);
      t->pending = Stop{Stop::Kind::Interrupt, tid};
    }
  }
}

// Before the trampoline goes: no thread may stand on it, and no stack slot
// may still point to it.
void Detach::release_returns() {
  // Each process's mappings, read once: a thread's stack ends where the
  // mapping that holds its sp ends.
  std::map<pid_t, std::vector<elf::Mapping>> maps;
  auto stack_end = [&](pid_t pid, uint64_t sp) -> uint64_t {
    auto it = maps.find(pid);
    if (it == maps.end()) {
      std::vector<elf::Mapping> m;
      try {
        m = elf::ModuleMap::read_maps(pid);
      } catch (const Error&) {
      }
      it = maps.emplace(pid, std::move(m)).first;
    }
    for (const elf::Mapping& m : it->second)
      if (sp >= m.start.value && sp < m.end.value) return m.end.value;
    return sp;  // unknown: nothing is scanned
  };
  for (auto& [tid, t] : e_.session.threads()) {
    Process* p = e_.session.process(t.pid);
    if (!p || !p->space || !p->space->return_trampoline.value) continue;
    const RuntimeAddr trampoline = p->space->return_trampoline;
    arch::Regs regs;
    if (e_.control.regs(tid, regs)) {
      const bool at = e_.isa.pc(regs) == trampoline.value;
      // Stopped by the trampoline's trap, whose SIGTRAP must not be
      // delivered: pc is after it (x86-64's int3) or at it (aarch64's brk).
      bool trapped = false;
      if (t.pending && t.pending->kind == Stop::Kind::Signal && t.pending->signal == SIGTRAP) {
        siginfo_t si{};
        auto bp = e_.control.siginfo(tid, si) ? e_.isa.breakpoint_address(e_.isa.pc(regs), si.si_code) : std::nullopt;
        trapped = bp && *bp == trampoline;
      }
      if (at || trapped) {
        if (e_.returns.leave_trampoline(t, regs, trampoline)) {
          e_.control.set_regs(tid, regs);
          if (trapped) t.pending = Stop{Stop::Kind::Interrupt, tid};
        } else {
          e_.status(fmt::format("warning: thread {} of pid {} is at uptrace's return trampoline with no record of "
                                "its return address",
                                tid, t.pid));
        }
      } else if (e_.returns.restore_register(t, regs, trampoline)) {
        // A hijacked function whose return address is in its register now.
        e_.control.set_regs(tid, regs);
      }
      if (std::any_of(t.returns.frames().begin(), t.returns.frames().end(), [](const ReturnFrame& f) { return f.moves; }))
        e_.returns.restore_moved(t.returns, e_.isa.sp(regs), stack_end(t.pid, e_.isa.sp(regs)), p->space->memory,
                                 trampoline);
    }
    const size_t failed = e_.returns.restore(t.returns, p->space->memory, trampoline);
    if (failed)
      e_.status(fmt::format("warning: {} return addresses could not be restored in thread {} of pid {}", failed, tid,
                            t.pid));
  }
}

// Put the code back and remove the slots and the ring, once per address space.
void Detach::restore_code() {
  std::vector<AddressSpace*> done;
  for (auto& [pid, p] : e_.session.processes()) {
    if (!p.space || std::find(done.begin(), done.end(), p.space.get()) != done.end()) continue;
    done.push_back(p.space.get());
    // A library unloaded since the loader was last consistent: its bytes
    // are not there to put back.
    e_.loader.forget_unmapped(p);
    if (size_t failed = p.space->journal.revert_all())
      e_.status(fmt::format("warning: {} patches could not be restored in pid {}", failed, pid));
    if (stuck_.count(pid)) {
      // Unmapped, they would crash the thread still in them.
      e_.status(fmt::format("warning: uptrace's slots stay mapped in pid {}: a thread is still inside them", pid));
      continue;
    }
    if (p.space->ring) p.space->scratch.push_back(*p.space->ring);
    p.space->ring.reset();
    Thread* t = p.space->scratch.empty() ? nullptr : thread_to_borrow(pid);
    if (t) {
      try {
        RemoteSyscalls remote(e_.control, *t, *p.space);
        for (const AddressRange& r : p.space->scratch)
          remote.call(arch::Syscall::Munmap, {r.start.value, r.end.value - r.start.value});
      } catch (const Error& e) {
        e_.status(fmt::format("warning: {}", e.what()));
      }
    }
    p.space->scratch.clear();
  }
}

namespace {

bool at_stop_signal(const Thread& t) {
  return t.pending && t.pending->kind == Stop::Kind::Signal && is_stop_signal(t.pending->signal);
}

}  // namespace

// The kernel drops a stop signal whose delivery-stop a SIGCONT came during;
// but each new signal-delivery-stop (a borrowed thread's step trap) marks
// it to be obeyed again, and the process would stop after its SIGCONT. So
// a thread stopped for one is borrowed only where the process has no
// other, and then only once its signal is delivered.
Thread* Detach::thread_to_borrow(pid_t pid) {
  Thread* leader = e_.session.thread(pid);
  if (leader && leader->pid == pid && !at_stop_signal(*leader)) return leader;
  Process* p = e_.session.process(pid);
  if (!p || p->threads.empty()) return nullptr;
  for (pid_t tid : p->threads)
    if (Thread* t = e_.session.thread(tid); t && !at_stop_signal(*t)) return t;
  Thread* t = e_.session.thread(*p->threads.begin());
  return t && settle_stop_signal(*t) ? t : nullptr;
}

bool Detach::settle_stop_signal(Thread& t) {
  if (!e_.control.run(t, t.pending->signal)) return false;
  e_.control.interrupt(t.tid);
  for (;;) {
    const Stop next = e_.control.wait_stop(t.tid);
    t.stopped = true;
    t.pending = next;
    if (next.thread_gone()) return false;  // let_go passes it by
    if (next.kind == Stop::Kind::GroupStop || next.kind == Stop::Kind::Interrupt) return true;
    // Whatever came on the way waits, as at any stop of the world.
    if (next.kind == Stop::Kind::Signal) {
      siginfo_t si{};
      if (e_.control.siginfo(t.tid, si)) e_.control.hold(t, si, next.sigconts_seen);
    }
    // A trap clears a pending interrupt: asked for again.
    if (!e_.control.run(t)) return false;
    e_.control.interrupt(t.tid);
  }
}

// Every thread goes, with the signal it was about to receive.
void Detach::let_go() {
  for (auto& [tid, t] : e_.session.threads()) {
    if (t.pending && t.pending->thread_gone()) continue;
    int sig = 0;
    if (t.pending && t.pending->kind == Stop::Kind::Signal) sig = t.pending->signal;
    e_.control.drop_cancelled_stop_signals(t);
    // From an event stop (a step's end reported as an interrupt, the stop
    // after a stop signal was delivered) the kernel queues them all again.
    if (sig == 0 && !t.held_signals.empty() && e_.control.at_signal_delivery_stop(tid)) {
      e_.control.set_siginfo(tid, t.held_signals.front());
      sig = t.held_signals.front().si_signo;
      t.held_signals.erase(t.held_signals.begin());
    }
    e_.control.detach(t, sig);
    for (const siginfo_t& held : t.held_signals) ThreadControl::requeue(t.pid, tid, held);
  }
}

void Detach::read_rings(bool report) {
  e_.jump.hold(false);
  if (report) e_.reporter.resume();
  for (auto& [pid, p] : e_.session.processes()) e_.jump.finish(p);
  e_.jump.finish_held();
  e_.reporter.pause();
}

void Detach::reap_gone() {
  for (pid_t tid : e_.session.tids()) {
    Thread* t = e_.session.thread(tid);
    if (t && t->pending && t->pending->thread_gone()) loop_.on_thread_gone(*t, *t->pending);
  }
}

}  // namespace uptrace::core
