// The classification of signal stops (core/stop_cause.h) on made-up
// registers and siginfo: every cause, and the cases that must not be
// confused (a trailing trap is ours only while stepping; a step trap is
// ours only with hardware single-step; a trap in a free-running slot is a
// ring-full wait only where the plan says so; the kernel's TRAP_BRKPT for a
// step over a system call is ours only right after the slot's own).
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "arch/x86_64/x86_64_isa.h"
#include "core/stop_cause.h"

using namespace uptrace;
using namespace uptrace::core;

namespace {

constexpr int kSiKernel = 0x80;  // x86-64 int3
constexpr int kTrapTrace = 2;    // TRAP_TRACE: a single step
constexpr int kTrapBrkpt = 1;    // TRAP_BRKPT: x86-64's report of a single step over a syscall

// A plan whose traps and mappings back to the original code are given.
class FakePlan final : public arch::ProbePlan {
 public:
  uint64_t end_trap = 0, ring_full_trap = 0, syscall_end = 0, displaced_copy = 0;
  std::optional<uint64_t> original;
  bool free_running = false;

  arch::ExecMode mode() const override { return free_running ? arch::ExecMode::Jump : arch::ExecMode::Trap; }
  std::string describe() const override { return "fake"; }
  std::vector<uint8_t> slot_code() const override { return {}; }
  arch::HitAction begin_hit(arch::Regs&, MemoryAccess&, arch::StepState&) const override {
    return arch::HitAction::SingleStep;
  }
  void finish_step(arch::Regs&, MemoryAccess&, const arch::StepState&) const override {}
  void abort_step(arch::Regs&, const arch::StepState&) const override {}
  std::optional<uint64_t> original_pc(uint64_t) const override { return original; }
  bool is_step_end_trap(RuntimeAddr trap) const override { return trap.value == end_trap; }
  bool is_ring_full_trap(RuntimeAddr trap) const override { return trap.value == ring_full_trap; }
  bool follows_syscall(uint64_t pc) const override { return pc == syscall_end; }
  bool is_displaced_copy(uint64_t pc) const override { return displaced_copy && pc == displaced_copy; }
};

constexpr uint64_t kSite = 0x401000, kSlot = 0x7f0000000000, kTrampoline = 0x7f0000010000;

struct Fixture {
  const arch::Isa& isa = arch::x86_64::x86_64_isa();
  AddressSpace space{::getpid()};
  std::shared_ptr<FakePlan> plan = std::make_shared<FakePlan>();
  Thread t;

  Fixture() {
    space.sites.push_back(ArmedSite{RuntimeAddr(kSite), RuntimeAddr(kSlot), plan, {}, std::nullopt});
    space.site_at[kSite] = 0;
    space.return_trampoline = RuntimeAddr(kTrampoline);
    t.tid = t.pid = ::getpid();
  }
  Classified at(int signal, int si_code, uint64_t pc,
                arch::StepMechanism mechanism = arch::StepMechanism::HardwareStep) {
    StopFacts f;
    f.signal = signal;
    f.si.si_signo = signal;
    f.si.si_code = si_code;
    f.pc = pc;
    return classify(isa, mechanism, t, &space, f);
  }
  void stepping(uint64_t from = kSlot) {
    t.xol = XolState::Stepping;
    t.stepping_site = 0;
    t.stepping_from = from;
  }
};

}  // namespace

TEST_CASE("stop cause: traps at sites and the return trampoline, everything else is the program's", "[core][stop]") {
  Fixture f;
  CHECK(f.at(SIGTRAP, kSiKernel, kSite + 1).cause == StopCause::ProbeTrap);
  CHECK(f.at(SIGTRAP, kSiKernel, kSite + 1).site == 0);
  CHECK(f.at(SIGTRAP, kSiKernel, kTrampoline + 1).cause == StopCause::ReturnTrap);
  CHECK(f.at(SIGTRAP, kSiKernel, kSite + 2).cause == StopCause::ForeignTrap);     // an int3 right after ours
  CHECK(f.at(SIGTRAP, SI_USER, kSite + 1).cause == StopCause::ForeignTrap);       // kill -TRAP
  CHECK(f.at(SIGTRAP, kTrapTrace, kSite + 1).cause == StopCause::ForeignTrap);    // a debugger's step
  CHECK(f.at(SIGUSR1, SI_USER, kSite + 1).cause == StopCause::PlainSignal);
  StopFacts none;
  none.signal = SIGTRAP;
  CHECK(classify(f.isa, arch::StepMechanism::HardwareStep, f.t, nullptr, none).cause == StopCause::ForeignTrap);
}

TEST_CASE("stop cause: while a copy is stepped", "[core][stop]") {
  Fixture f;
  f.stepping();
  CHECK(f.at(SIGTRAP, kTrapTrace, kSlot + 3).cause == StopCause::StepDone);
  CHECK(f.at(SIGSEGV, SEGV_MAPERR, kSlot).cause == StopCause::FaultInCopy);
  CHECK(f.at(SIGSEGV, SEGV_MAPERR, kSlot + 3).cause == StopCause::SignalDuringStep);  // not at the copy
  CHECK(f.at(SIGUSR1, SI_USER, kSlot).cause == StopCause::SignalDuringStep);
  CHECK(f.at(SIGSEGV, SI_USER, kSlot).cause == StopCause::SignalDuringStep);  // sent, not raised by the copy
}

TEST_CASE("stop cause: leaving a boost slot through its stepped form is a step like any other", "[core][stop]") {
  // Without single-step, a thread a signal found at a boost slot's start
  // runs the copy's stepped form at slot + 8 to its trap (ProbePlan::slot_exit).
  Fixture f;
  f.space.free_running = true;
  f.plan->free_running = true;
  f.plan->end_trap = kSlot + 12;
  f.stepping(kSlot + 8);
  const auto trailing = arch::StepMechanism::TrailingTrap;
  Classified done = f.at(SIGTRAP, kSiKernel, kSlot + 13, trailing);
  CHECK(done.cause == StopCause::StepDone);
  CHECK(done.trap.value == kSlot + 12);
  // A fault in that copy is the copy's; a signal meanwhile waits, also one found at the slot's start.
  CHECK(f.at(SIGSEGV, SEGV_MAPERR, kSlot + 8, trailing).cause == StopCause::FaultInCopy);
  CHECK(f.at(SIGSEGV, SEGV_MAPERR, kSlot, trailing).cause == StopCause::SignalDuringStep);
  CHECK(f.at(SIGUSR1, SI_USER, kSlot + 8, trailing).cause == StopCause::SignalDuringStep);
  // Once done, a signal at the slot's start is one in a free-running slot again.
  f.t.xol = XolState::Idle;
  CHECK(f.at(SIGUSR1, SI_USER, kSlot, trailing).cause == StopCause::SignalInSlot);
}

TEST_CASE("stop cause: a fault at a displaced instruction's copy that has no original pc is the copy's",
          "[core][stop]") {
  // riscv64's jump after a 2-byte site: the second displaced instruction's
  // copy in the stepped form, at kSlot + 40, reached by a step that started
  // earlier (at kSlot + 8). Run on, it would fault again for ever.
  Fixture f;
  f.space.free_running = true;
  f.plan->free_running = true;
  f.plan->displaced_copy = kSlot + 40;
  f.stepping(kSlot + 8);
  const auto trailing = arch::StepMechanism::TrailingTrap;
  CHECK(f.at(SIGSEGV, SEGV_MAPERR, kSlot + 40, trailing).cause == StopCause::FaultInCopy);
  CHECK(f.at(SIGSEGV, SEGV_MAPERR, kSlot + 36, trailing).cause == StopCause::SignalDuringStep);
  CHECK(f.at(SIGSEGV, SI_USER, kSlot + 40, trailing).cause == StopCause::SignalDuringStep);  // sent, not raised
}

TEST_CASE("stop cause: a trailing trap ends the step only where the plan put one", "[core][stop]") {
  Fixture f;
  f.plan->end_trap = kSlot + 3;
  f.stepping();
  const auto trailing = arch::StepMechanism::TrailingTrap;
  Classified done = f.at(SIGTRAP, kSiKernel, kSlot + 4, trailing);
  CHECK(done.cause == StopCause::StepDone);
  CHECK(done.trap.value == kSlot + 3);
  CHECK(f.at(SIGTRAP, kSiKernel, kSlot + 2, trailing).cause == StopCause::SignalDuringStep);
  // A step trap means nothing here: nobody single-steps.
  CHECK(f.at(SIGTRAP, kTrapTrace, kSlot + 3, trailing).cause == StopCause::SignalDuringStep);
  // Not stepping, the same trap is nobody's (the program cannot run the slot).
  f.t.xol = XolState::Idle;
  CHECK(f.at(SIGTRAP, kSiKernel, kSlot + 4, trailing).cause == StopCause::ForeignTrap);
}

TEST_CASE("stop cause: free-running slots", "[core][stop]") {
  Fixture f;
  f.space.free_running = true;
  f.plan->free_running = true;
  f.plan->ring_full_trap = kSlot + 40;
  // The writer waits for room at its ring-full trap.
  Classified full = f.at(SIGTRAP, kSiKernel, kSlot + 41);
  CHECK(full.cause == StopCause::RingFull);
  CHECK(full.trap.value == kSlot + 40);
  // A signal inside: held while the thread steps out.
  CHECK(f.at(SIGUSR1, SI_USER, kSlot + 8).cause == StopCause::SignalInSlot);
  CHECK(f.at(SIGUSR1, SI_USER, kSlot + 8).site == 0);
  // A fault where the state maps back: delivered there.
  f.plan->original = kSite;
  Classified fault = f.at(SIGSEGV, SEGV_MAPERR, kSlot + 8);
  CHECK(fault.cause == StopCause::FaultInSlot);
  CHECK(fault.original_pc == kSite);
  // Leaving: our steps inside, then out.
  f.t.xol = XolState::LeavingSlot;
  CHECK(f.at(SIGTRAP, kTrapTrace, kSlot + 12).cause == StopCause::StepInSlot);
  CHECK(f.at(SIGTRAP, kTrapTrace, kSite + 5).cause == StopCause::LeftSlot);
  CHECK(f.at(SIGUSR1, SI_USER, kSite + 5).cause == StopCause::LeftSlot);
  // Outside any slot and not leaving: a plain signal, or the probe trap.
  f.t.xol = XolState::Idle;
  CHECK(f.at(SIGUSR1, SI_USER, kSite + 5).cause == StopCause::PlainSignal);
  CHECK(f.at(SIGTRAP, kSiKernel, kSite + 1).cause == StopCause::ProbeTrap);
}

TEST_CASE("stop cause: a thread at a jump's relay is on its way into the slot", "[core][stop]") {
  // x86-64's relay (arch::Relay): the site's jmp rel8 goes to a jmp rel32
  // in the padding before the function. A signal there is held while the
  // thread steps on through the trampoline; at detach it goes back to the
  // site (original_pc).
  constexpr uint64_t kRelay = kSite - 5;
  Fixture f;
  f.space.free_running = true;
  f.plan->free_running = true;
  CHECK(f.at(SIGUSR1, SI_USER, kRelay).cause == StopCause::PlainSignal);
  f.space.sites[0].relay = RuntimeAddr(kRelay);
  Classified at_relay = f.at(SIGUSR1, SI_USER, kRelay);
  CHECK(at_relay.cause == StopCause::SignalInSlot);
  CHECK(at_relay.site == 0);
  CHECK(f.space.slot_owner(kRelay, f.isa.slot_size()) == &f.space.sites[0]);
  // Only the relay's first byte: nothing runs the rest of it.
  CHECK(f.space.slot_owner(kRelay + 1, f.isa.slot_size()) == nullptr);
  CHECK(f.at(SIGUSR1, SI_USER, kRelay - 1).cause == StopCause::PlainSignal);
}

TEST_CASE("stop cause: a step over a trampoline's system call is ours, though the kernel reports it as a breakpoint",
          "[core][stop]") {
  // x86-64 reports a single step over `syscall` from the syscall exit path
  // with TRAP_BRKPT, pc right after it. A thread stepped out of a jump
  // trampoline passes its gettid that way (threads whose fs:0 is 0, Go's):
  // taken for a signal of the program's, that SIGTRAP was held and
  // delivered once the thread was out, and killed the program.
  Fixture f;
  f.space.free_running = true;
  f.plan->free_running = true;
  f.plan->syscall_end = kSlot + 0x83;
  f.t.xol = XolState::LeavingSlot;
  CHECK(f.at(SIGTRAP, kTrapBrkpt, kSlot + 0x83).cause == StopCause::StepInSlot);
  StopFacts step;
  step.signal = step.si.si_signo = SIGTRAP;
  step.si.si_code = kTrapBrkpt;
  step.pc = kSlot + 0x83;
  CHECK(ends_single_step(f.isa, f.space, step));
  step.si.si_code = kTrapTrace;  // any other step: the CPU's trap
  step.pc = kSlot + 0x20;
  CHECK(ends_single_step(f.isa, f.space, step));
  // Anywhere else, or sent by someone (kill -TRAP), a SIGTRAP is still the
  // program's: held while the thread steps out, then delivered.
  CHECK(f.at(SIGTRAP, kTrapBrkpt, kSlot + 0x81).cause == StopCause::SignalInSlot);
  CHECK(f.at(SIGTRAP, SI_USER, kSlot + 0x83).cause == StopCause::SignalInSlot);
  CHECK(f.at(SIGTRAP, SI_TKILL, kSlot + 0x83).cause == StopCause::SignalInSlot);
  step.si.si_code = SI_USER;
  step.pc = kSlot + 0x83;
  CHECK_FALSE(ends_single_step(f.isa, f.space, step));
  step.si.si_code = kTrapBrkpt;
  step.pc = kSlot + 0x81;
  CHECK_FALSE(ends_single_step(f.isa, f.space, step));
  step.pc = kSite + 5;  // not in a slot
  CHECK_FALSE(ends_single_step(f.isa, f.space, step));
  step.signal = step.si.si_signo = SIGUSR1;
  step.pc = kSlot + 0x83;
  CHECK_FALSE(ends_single_step(f.isa, f.space, step));
}
