#pragma once
// System calls run by a stopped thread of the target on uptrace's behalf,
// as rr's AutoRemoteSyscalls: the constructor saves the thread's registers
// and the siginfo of its stop and borrows one instruction (the program's
// entry point runs once at start, so while every thread is stopped it is a
// safe place for it, as gdb does); the destructor puts all of it back,
// whatever happened in between, so an exception half way never leaves the
// borrowed instruction in place.
#include <sys/types.h>

#include <cstdint>
#include <initializer_list>
#include <optional>

#include "arch/isa.h"
#include "core/address_space.h"
#include "core/thread.h"
#include "core/thread_control.h"

namespace uptrace::core {

class RemoteSyscalls {
 public:
  // `t` must be stopped. Throws Error when it vanished or the process has no
  // entry point to borrow.
  RemoteSyscalls(ThreadControl& control, Thread& t, AddressSpace& space);
  ~RemoteSyscalls();
  RemoteSyscalls(const RemoteSyscalls&) = delete;
  RemoteSyscalls& operator=(const RemoteSyscalls&) = delete;

  // The call's return value (-errno on failure, as the kernel returns it).
  // Signals that arrive meanwhile are held on the thread. Throws Error when
  // the process exits meanwhile.
  int64_t call(arch::Syscall call, std::initializer_list<uint64_t> args);

 private:
  void give_back_mask();

  ThreadControl& control_;
  Thread& t_;
  AddressSpace& space_;
  arch::Regs saved_;
  siginfo_t saved_info_{};
  bool had_info_ = false;
  // The thread's Thread::mask_until_syscall when it was borrowed.
  std::optional<uint64_t> program_mask_;
  // Put back on a system call the kernel rewound before the stop, after
  // running borrowed code: it must enter that call first
  // (Thread::mask_until_syscall).
  bool back_on_rewound_call_ = false;
  // The thread's mask while borrowed, when it blocked SIGTRAP: unblocked
  // meanwhile (the constructor says why).
  std::optional<uint64_t> trap_blocked_mask_;
  bool ran_ = false;
  RuntimeAddr entry_;
  size_t patch_ = 0;
  size_t insn_length_ = 0;
  // How the borrowed instruction runs to its end: stepped, or continued to
  // a trap right after it.
  arch::StepMechanism mechanism_ = arch::StepMechanism::HardwareStep;
};

}  // namespace uptrace::core
