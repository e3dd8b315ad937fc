#include "core/remote_syscalls.h"

#include <elf.h>

#include <signal.h>

#include <algorithm>
#include <cassert>
#include <vector>

#include "common/error.h"
#include "core/proc_info.h"

namespace uptrace::core {

namespace {

constexpr uint64_t signal_bit(int sig) { return uint64_t{1} << (sig - 1); }

// Every signal but those a step raises itself: the kernel delivers a forced
// signal that is blocked by unblocking it and resetting its handler to the
// default, which would change the program.
constexpr uint64_t kBlockedUntilSyscall = ~(signal_bit(SIGTRAP) | signal_bit(SIGSEGV) | signal_bit(SIGBUS) |
                                            signal_bit(SIGILL) | signal_bit(SIGFPE) | signal_bit(SIGSYS));

}  // namespace

void RemoteSyscalls::give_back_mask() {
  if (program_mask_) {
    t_.mask_until_syscall = program_mask_;  // still blocked in the kernel
    return;
  }
  if (!ran_ || !back_on_rewound_call_) return;
  // Read only now: the borrowed code ran after the stop's own signal
  // handling had put back a mask a call such as sigsuspend() swapped for
  // its duration; blocking before that (PTRACE_SETSIGMASK drops the pending
  // restore) would leave the program with the call's temporary mask.
  uint64_t mask = 0;
  if (control_.signal_mask(t_.tid, mask) && control_.set_signal_mask(t_.tid, kBlockedUntilSyscall))
    t_.mask_until_syscall = mask;
}

RemoteSyscalls::RemoteSyscalls(ThreadControl& control, Thread& t, AddressSpace& space)
    : control_(control), t_(t), space_(space) {
  assert(t.stopped);
  if (!control_.regs(t.tid, saved_)) throw_runtime("thread {} of pid {} vanished", t.tid, t.pid);
  // The stop the thread is in may carry a siginfo someone will read later.
  had_info_ = t.pending && t.pending->kind == Stop::Kind::Signal && control_.siginfo(t.tid, saved_info_);
  const arch::Isa& isa = control_.isa();
  if (isa.decides_restart_before_stop()) {
    std::vector<uint8_t> at_pc(isa.syscall_instruction().size());
    back_on_rewound_call_ = space_.memory.read(RuntimeAddr(isa.pc(saved_)), at_pc) &&
                            std::equal(at_pc.begin(), at_pc.end(), isa.syscall_instruction().begin());
  }
  // Borrowed before, still to enter its call: the kernel's mask is blocked
  // and the program's kept; control_.run() is a plain continue while
  // borrowed.
  program_mask_ = t.mask_until_syscall;
  t.mask_until_syscall.reset();
  try {
    auto entry = proc::aux_value(t.pid, AT_ENTRY);
    if (!entry) throw_runtime("cannot read the entry point of pid {}", t.pid);
    entry_ = RuntimeAddr(*entry);
    std::vector<uint8_t> insn(isa.syscall_instruction().begin(), isa.syscall_instruction().end());
    insn_length_ = insn.size();
    // Without a hardware step, or where a step over the syscall instruction
    // does not end right after it (Isa::syscall_step_mechanism), the thread
    // runs to a trap right after it.
    mechanism_ = control_.step_mechanism() == arch::StepMechanism::TrailingTrap ? arch::StepMechanism::TrailingTrap
                                                                                : isa.syscall_step_mechanism();
    if (mechanism_ == arch::StepMechanism::TrailingTrap)
      insn.insert(insn.end(), isa.breakpoint().begin(), isa.breakpoint().end());
    patch_ = space_.journal.patch(entry_, insn);
  } catch (...) {
    give_back_mask();
    throw;
  }
  // The borrowed code ends at a trap or a step, whose SIGTRAP the kernel
  // forces: were SIGTRAP blocked (a thread inside its own SIGTRAP handler),
  // the kernel would reset the program's handler to the default for good,
  // and the program's next trap would kill it. Unblocked until given back.
  // (A mask that a call such as sigsuspend() swapped in stays then, as
  // PTRACE_SETSIGMASK drops its pending restore: only where that mask
  // blocks SIGTRAP, and a mask kept is less than a handler lost.)
  uint64_t mask = 0;
  if (control_.signal_mask(t_.tid, mask) && (mask & signal_bit(SIGTRAP)) &&
      control_.set_signal_mask(t_.tid, mask & ~signal_bit(SIGTRAP)))
    trap_blocked_mask_ = mask;
}

RemoteSyscalls::~RemoteSyscalls() {
  // Best effort: the thread may be gone; the journal entry goes back anyway.
  try {
    control_.set_regs(t_.tid, saved_);
    if (had_info_) control_.set_siginfo(t_.tid, saved_info_);
  } catch (const Error&) {
  }
  try {
    space_.journal.revert(patch_);
  } catch (const Error&) {
  }
  try {
    // Before give_back_mask, which may read the program's mask.
    if (trap_blocked_mask_) control_.set_signal_mask(t_.tid, *trap_blocked_mask_);
    give_back_mask();
  } catch (const Error&) {
  }
  if (ran_ && t_.pending && t_.pending->kind == Stop::Kind::GroupStop) t_.out_of_group_stop = true;
  // Delivered now from the borrowed code's last stop, a stop signal would
  // be obeyed even where a SIGCONT has come since (the kernel drops it only
  // at its own stop): held instead, it is checked when it goes.
  if (ran_ && had_info_ && t_.pending && t_.pending->kind == Stop::Kind::Signal && is_stop_signal(saved_info_.si_signo)) {
    control_.hold(t_, saved_info_, t_.pending->sigconts_seen, true);
    t_.pending = Stop{Stop::Kind::Interrupt, t_.tid};
  }
}

int64_t RemoteSyscalls::call(arch::Syscall call, std::initializer_list<uint64_t> args) {
  const arch::Isa& isa = control_.isa();
  arch::Regs regs = saved_;
  std::vector<uint64_t> a(args);
  isa.prepare_syscall(regs, entry_, isa.syscall_number(call), a);
  if (!control_.set_regs(t_.tid, regs)) throw_runtime("thread {} of pid {} vanished", t_.tid, t_.pid);
  const uint64_t done_pc = entry_.value + insn_length_;
  const std::optional<Stop> saved_pending = t_.pending;
  ran_ = true;
  for (;;) {
    const bool resumed = mechanism_ == arch::StepMechanism::TrailingTrap ? control_.run(t_) : control_.step(t_);
    if (!resumed) throw_runtime("pid {} exited while uptrace was setting up", t_.pid);
    const Stop stop = control_.wait_stop(t_.tid);
    t_.stopped = true;
    t_.pending = stop.thread_gone() ? stop : saved_pending;  // a gone thread stays known as gone
    if (stop.thread_gone()) throw_runtime("pid {} exited while uptrace was setting up", t_.pid);
    if (stop.kind != Stop::Kind::Signal) continue;
    siginfo_t si{};
    control_.siginfo(t_.tid, si);
    control_.regs(t_.tid, regs);
    if (stop.signal == SIGTRAP) {
      const uint64_t pc = isa.pc(regs);
      if (mechanism_ == arch::StepMechanism::HardwareStep) {
        if (isa.is_syscall_step_trap(si.si_code) && pc == done_pc) break;
        // A step that ended anywhere else ran code that is not the
        // borrowed instruction: stepping on would run the program under
        // the injected registers (and hold a trap of uptrace's own).
        if (isa.is_step_trap(si.si_code))
          throw_runtime("the step over the system call at {:#x} in thread {} ended at {:#x} (si_code {})", entry_.value,
                        t_.tid, pc, si.si_code);
      } else if (auto bp = isa.breakpoint_address(pc, si.si_code); bp && bp->value == done_pc) {
        break;
      }
    }
    control_.hold(t_, si, stop.sigconts_seen);  // delivered when the thread next runs
  }
  return isa.syscall_result(regs);
}

}  // namespace uptrace::core
