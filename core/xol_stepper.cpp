#include "core/xol_stepper.h"

#include "common/error.h"

namespace uptrace::core {

namespace {

// Generated slot code is straight-line but for jump trampolines' short
// retry loop; this bounds the steps spent leaving one.
constexpr unsigned kMaxStepsOutOfSlot = 10000;

void requeue_held(ThreadControl& control, Thread& t) {
  control.drop_cancelled_stop_signals(t);
  for (const siginfo_t& held : t.held_signals) ThreadControl::requeue(t.pid, t.tid, held);
  t.held_signals.clear();
}

// A fault the code in a free-running slot raised (not one sent by another
// process or thread: those have si_code <= 0). Under TrailingTrap such a
// thread leaves through the stepped form, which runs the same instruction
// first, with the same registers: it raises the fault again (FaultInCopy,
// delivered where the plan's abort_step puts the thread, once), or, its
// cause gone meanwhile, runs. Held as well, it would be delivered twice.
bool raised_by_slot_code(const siginfo_t& si) { return si.si_code > 0 && is_fault_signal(si.si_signo); }

}  // namespace

void XolStepper::begin(Thread& t, AddressSpace& space, uint32_t site, arch::Regs& regs) {
  const arch::HitAction action = space.sites[site].plan->begin_hit(regs, space.memory, t.step);
  if (!control_.set_regs(t.tid, regs)) return;
  if (action == arch::HitAction::SingleStep) {
    t.xol = XolState::Stepping;
    t.stepping_site = static_cast<int>(site);
    t.stepping_from = isa_.pc(regs);
    control_.step(t);
  } else {
    control_.run(t);
  }
}

void XolStepper::on_stop(Thread& t, AddressSpace& space, const Classified& c, siginfo_t& si, arch::Regs& regs) {
  switch (c.cause) {
    case StopCause::StepDone:
      if (finish(t, space, c.trap, regs)) deliver_held_signals(t);
      return;
    case StopCause::FaultInCopy:
      abort(t, space, si, regs);
      requeue_held(control_, t);
      control_.run(t, si.si_signo);
      return;
    case StopCause::SignalDuringStep:
      control_.hold(t, si);  // rule 5: it waits until the step is done
      control_.step(t);
      return;
    case StopCause::FaultInSlot:
      deliver_fault_at(t, c.original_pc, si, regs);
      return;
    case StopCause::SignalInSlot:
      if (control_.step_mechanism() == arch::StepMechanism::TrailingTrap) {
        if (!raised_by_slot_code(si)) control_.hold(t, si);
        exit_slot(t, space, c.site, regs);
        return;
      }
      hold_and_step_out(t, true, si);
      return;
    case StopCause::StepInSlot: hold_and_step_out(t, false, si); return;
    case StopCause::LeftSlot:
      t.xol = XolState::Idle;
      if (!ends_single_step(isa_, space, {si.si_signo, si, isa_.pc(regs)})) control_.hold(t, si);
      deliver_held_signals(t);
      return;
    default: return;
  }
}

bool XolStepper::finish(Thread& t, AddressSpace& space, RuntimeAddr trap, arch::Regs& regs) {
  const ArmedSite& site = space.sites[static_cast<size_t>(t.stepping_site)];
  // After a trailing trap pc is at (or, on x86-64, past) it: put it where a
  // hardware step would have left it, right after the copy.
  if (trap.value) isa_.set_pc(regs, trap.value);
  site.plan->finish_step(regs, space.memory, t.step);
  t.xol = XolState::Idle;
  t.stepping_site = -1;
  return control_.set_regs(t.tid, regs);
}

void XolStepper::abort(Thread& t, const AddressSpace& space, siginfo_t& si, arch::Regs& regs) {
  const ArmedSite& site = space.sites[static_cast<size_t>(t.stepping_site)];
  const uint64_t fault_pc = isa_.pc(regs);
  site.plan->abort_step(regs, t.step);
  control_.set_regs(t.tid, regs);
  // A fault that names the copy's address (SIGILL, SIGTRAP) names the site's.
  const auto named = reinterpret_cast<uint64_t>(si.si_addr);
  if (named == t.stepping_from || named == fault_pc) si.si_addr = reinterpret_cast<void*>(site.addr.value);
  control_.set_siginfo(t.tid, si);
  t.xol = XolState::Idle;
  t.stepping_site = -1;
}

void XolStepper::deliver_fault_at(Thread& t, uint64_t original, siginfo_t& si, arch::Regs& regs) {
  const uint64_t pc = isa_.pc(regs);
  isa_.set_pc(regs, original);
  control_.set_regs(t.tid, regs);
  if (reinterpret_cast<uint64_t>(si.si_addr) == pc) si.si_addr = reinterpret_cast<void*>(original);
  control_.set_siginfo(t.tid, si);
  t.xol = XolState::Idle;
  requeue_held(control_, t);
  control_.run(t, si.si_signo);
}

bool XolStepper::start_slot_exit(Thread& t, const AddressSpace& space, int site, arch::Regs& regs) {
  const auto exit = space.sites[static_cast<size_t>(site)].plan->slot_exit(isa_.pc(regs));
  if (!exit) return false;
  isa_.set_pc(regs, exit->pc);
  if (!control_.set_regs(t.tid, regs)) return false;
  if (exit->kind == arch::SlotExit::Kind::Original) {
    t.xol = XolState::Idle;
    return true;
  }
  t.xol = XolState::Stepping;
  t.stepping_site = site;
  t.stepping_from = exit->pc;
  t.step = {};
  return true;
}

// Without single-step (StepMechanism::TrailingTrap) the plan says how the
// thread gets out (ProbePlan::slot_exit): moved to the original address, or
// run through the copy's stepped form as a step whose end (StepDone)
// delivers what is held. Either way the copy runs exactly once for the hit
// already counted.
void XolStepper::exit_slot(Thread& t, AddressSpace& space, int site, arch::Regs& regs) {
  if (!space.sites[static_cast<size_t>(site)].plan->slot_exit(isa_.pc(regs)))
    // Delivering the held signal here would run a handler that returns
    // into the slot (DESIGN rule 5); no plan offered under TrailingTrap
    // leaves a pc without an exit, so this is uptrace's bug, said as one.
    throw_runtime("internal error: thread {} is in the slot of the probe at {:#x} at {:#x}, which its plan gives no "
                  "way out of without a single step",
                  t.tid, space.sites[static_cast<size_t>(site)].addr.value, isa_.pc(regs));
  if (!start_slot_exit(t, space, site, regs)) {
    t.xol = XolState::Idle;  // the thread is gone
    return;
  }
  if (t.stepping()) {
    control_.step(t);
  } else {
    deliver_held_signals(t);
  }
}

// No handler may ever see (or return into) slot addresses (rule 5): what
// arrives in a free-running slot waits until the thread has stepped out.
void XolStepper::hold_and_step_out(Thread& t, bool hold, const siginfo_t& si) {
  if (hold) control_.hold(t, si);
  if (t.xol != XolState::LeavingSlot) t.slot_steps = 0;
  t.xol = XolState::LeavingSlot;
  if (++t.slot_steps > kMaxStepsOutOfSlot) {
    // Cannot happen for code we generate; never hold a signal forever.
    t.xol = XolState::Idle;
    deliver_held_signals(t);
    return;
  }
  control_.single_step(t);
}

void XolStepper::resume(Thread& t, int signal) {
  if (t.xol == XolState::Stepping) {
    control_.step(t, signal);
  } else if (t.xol == XolState::LeavingSlot) {
    if (signal) {
      siginfo_t si{};
      si.si_signo = signal;
      control_.hold(t, si);
    }
    control_.single_step(t);
  } else if (!t.held_signals.empty() && signal == 0) {
    deliver_held_signals(t);
  } else {
    control_.run(t, signal);
  }
}

void XolStepper::deliver_held_signals(Thread& t) {
  control_.drop_cancelled_stop_signals(t);
  if (t.held_signals.empty()) {
    control_.run(t);
    return;
  }
  if (!control_.at_signal_delivery_stop(t.tid)) {
    requeue_held(control_, t);
    control_.run(t);
    return;
  }
  const siginfo_t first = t.held_signals.front();
  for (size_t i = 1; i < t.held_signals.size(); ++i) ThreadControl::requeue(t.pid, t.tid, t.held_signals[i]);
  t.held_signals.clear();
  control_.set_siginfo(t.tid, first);
  control_.run(t, first.si_signo);
}

bool XolStepper::step_and_wait(Thread& t, bool single) {
  if (!(single ? control_.single_step(t) : control_.step(t))) return false;
  const Stop next = control_.wait_stop(t.tid);
  t.stopped = true;
  t.pending = next;
  return !next.thread_gone();
}

Classified XolStepper::classify_pending(Thread& t, const AddressSpace& space, siginfo_t& si, arch::Regs& regs) {
  if (!control_.siginfo(t.tid, si) || !control_.regs(t.tid, regs)) return Classified{};
  return classify(isa_, control_.step_mechanism(), t, &space, {t.pending->signal, si, isa_.pc(regs)});
}

void XolStepper::complete(Thread& t, AddressSpace& space) {
  while (t.stepping()) {
    const Stop stop = t.pending.value_or(Stop{Stop::Kind::Interrupt, t.tid});
    if (stop.thread_gone()) return;
    if (stop.kind == Stop::Kind::Signal) {
      siginfo_t si{};
      arch::Regs regs;
      const Classified c = classify_pending(t, space, si, regs);
      if (c.cause == StopCause::StepDone) {
        finish(t, space, c.trap, regs);
        t.pending = Stop{Stop::Kind::Interrupt, t.tid};
        return;
      }
      if (c.cause == StopCause::FaultInCopy) {
        abort(t, space, si, regs);
        control_.hold(t, si, std::nullopt, true);
        t.pending = Stop{Stop::Kind::Interrupt, t.tid};
        return;
      }
      control_.hold(t, si);
    }
    if (!step_and_wait(t, false)) return;
  }
}

XolStepper::Leaving XolStepper::leave_slot(Thread& t, AddressSpace& space, const RingFullHandler& ring_full) {
  for (unsigned steps = 0;; ++steps) {
    if (!t.pending || t.pending->thread_gone()) return Leaving::Out;
    siginfo_t si{};
    arch::Regs regs;
    if (t.pending->kind == Stop::Kind::Signal) {
      const Classified c = classify_pending(t, space, si, regs);
      if (c.cause == StopCause::RingFull) {  // a tiny ring can fill again while trampolines are stepped out
        if (!ring_full(t, c.trap)) return Leaving::Blocked;
        continue;
      }
    } else if (!control_.regs(t.tid, regs)) {
      return Leaving::Out;
    }
    const uint64_t pc = isa_.pc(regs);
    const ArmedSite* site = space.slot_owner(pc, isa_.slot_size());
    if (!site) break;
    // The probes are disarmed before the thread runs again, so a thread at
    // the slot's start goes back to the site and runs the original
    // instruction there, counted once.
    if (auto original = site->plan->original_pc(pc)) {
      isa_.set_pc(regs, *original);
      control_.set_regs(t.tid, regs);
      break;
    }
    if (control_.step_mechanism() == arch::StepMechanism::TrailingTrap) {
      // No single step: the plan's way out. A step through its stepped
      // form is finished as complete() finishes any, with the signal the
      // thread stopped for held (but a fault the slot's code raised, which
      // the step raises again); moved to an original address, the thread
      // keeps its stop, and let_go delivers the signal from there.
      if (!start_slot_exit(t, space, static_cast<int>(site - space.sites.data()), regs)) return Leaving::Stuck;
      if (t.stepping()) {
        if (t.pending->kind == Stop::Kind::Signal && !raised_by_slot_code(si)) control_.hold(t, si);
        t.pending = Stop{Stop::Kind::Interrupt, t.tid};
        complete(t, space);
      }
      return Leaving::Out;
    }
    if (steps > kMaxStepsOutOfSlot) return Leaving::Stuck;
    if (t.pending->kind == Stop::Kind::Signal && !ends_single_step(isa_, space, {t.pending->signal, si, pc}))
      control_.hold(t, si);
    t.pending = Stop{Stop::Kind::Interrupt, t.tid};
    if (!step_and_wait(t, true)) return Leaving::Out;
    // The step's own SIGTRAP is no signal for the program, also where it
    // went over the trampoline's gettid and the kernel reported it as a
    // breakpoint: held, it would be delivered when the thread is let go,
    // and kill the program.
    if (t.pending->kind == Stop::Kind::Signal && control_.siginfo(t.tid, si) && control_.regs(t.tid, regs) &&
        ends_single_step(isa_, space, {t.pending->signal, si, isa_.pc(regs)}))
      t.pending = Stop{Stop::Kind::Interrupt, t.tid};
  }
  t.xol = XolState::Idle;
  return Leaving::Out;
}

}  // namespace uptrace::core
