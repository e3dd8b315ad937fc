#pragma once
// Why a thread is in a signal-delivery-stop, decided in one place from the
// stop, its siginfo, its pc, the thread's out-of-line state and the probes
// of its address space — the kernel's handle_swbp / handle_singlestep split,
// with the state explicit. Pure: no ptrace, so unit tests drive it with
// made-up registers and siginfo.
#include <signal.h>

#include <cstdint>
#include <string_view>

#include "arch/isa.h"
#include "core/address_space.h"
#include "core/thread.h"

namespace uptrace::core {

enum class StopCause : uint8_t {
  ProbeTrap,         // uptrace's trap at a probe site (`site`)
  ReturnTrap,        // the %return trampoline's trap
  RingFull,          // a jump trampoline's writer waits for room (`trap`)
  StepDone,          // the displaced copy ran to its end (step trap, or the slot's trailing trap at `trap`)
  FaultInCopy,       // the copy being stepped faulted at the slot: deliver at the probe address
  SignalDuringStep,  // any other signal while stepping: held until the step is done
  FaultInSlot,       // the copy in a free-running slot faulted where the state maps back (`original_pc`)
  SignalInSlot,      // a signal found the thread in a free-running slot: held, the thread steps out
  StepInSlot,        // leaving a free-running slot: one step done, still inside
  LeftSlot,          // leaving a free-running slot: out now; what was held can be delivered
  ForeignTrap,       // a SIGTRAP that is not uptrace's: delivered unchanged
  PlainSignal,       // any other signal: delivered unchanged
};
std::string_view to_string(StopCause cause);

struct StopFacts {
  int signal = 0;
  siginfo_t si{};
  uint64_t pc = 0;
};

struct Classified {
  StopCause cause = StopCause::PlainSignal;
  int site = -1;                 // ProbeTrap: the site; FaultInSlot, SignalInSlot: the slot's site
  RuntimeAddr trap;              // RingFull, and StepDone by a trailing trap: the trap's address
  uint64_t original_pc = 0;      // FaultInSlot
};

// `space` is the thread's address space (null when its process is unknown).
Classified classify(const arch::Isa& isa, arch::StepMechanism mechanism, const Thread& t, const AddressSpace* space,
                    const StopFacts& facts);

// Whether a stop that follows a PTRACE_SINGLESTEP of a thread out of a
// free-running slot is that step's own end: the CPU's step trap, or, after
// a step over a system call instruction of the slot (a jump trampoline's
// gettid), the SIGTRAP the kernel sends from its syscall exit path instead
// (TRAP_BRKPT on x86-64; the slot's plan says where its system calls end).
// Either is uptrace's and no signal for the program: held and delivered
// later, it would kill the program.
bool ends_single_step(const arch::Isa& isa, const AddressSpace& space, const StopFacts& facts);

// Signals the CPU raises for the instruction it was executing.
bool is_fault_signal(int signal);

}  // namespace uptrace::core
