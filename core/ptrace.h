#pragma once
// Every ptrace(2) call uptrace makes goes through here, so errors always carry
// the request, the thread and errno, and ESRCH (the thread died under us) is
// reported as a value, not an exception: threads die at any time.
#include <signal.h>
#include <sys/types.h>

#include <cstdint>

#include "arch/isa.h"

namespace uptrace::core::ptrace {

// Options set on every seized thread: events for new threads and processes,
// exec and exit; syscall-stops marked (SIGTRAP | 0x80), so the one kind
// uptrace asks for (ThreadControl::run of a thread that must enter a system
// call first) is never taken for a trap. Never PTRACE_O_EXITKILL: if uptrace
// dies, the target lives.
unsigned long default_options();

// Seize a running thread. Returns errno (0 on success).
int seize(pid_t tid, unsigned long options);
// Each returns false when the thread no longer exists (ESRCH); other errors throw.
bool interrupt(pid_t tid);
bool cont(pid_t tid, int signal = 0);
bool single_step(pid_t tid, int signal = 0);
// PTRACE_SYSCALL: runs to the next system call's entry.
bool run_to_syscall(pid_t tid, int signal = 0);
bool listen(pid_t tid);
bool detach(pid_t tid, int signal = 0);
bool get_regs(pid_t tid, const arch::Isa& isa, arch::Regs& regs);
bool set_regs(pid_t tid, const arch::Isa& isa, const arch::Regs& regs);
// The first word of regset `type` (NT_ARM_TLS: tpidr_el0).
bool get_regset_word(pid_t tid, unsigned type, uint64_t& word);
bool get_siginfo(pid_t tid, siginfo_t& info);
bool set_siginfo(pid_t tid, const siginfo_t& info);
bool get_event_message(pid_t tid, unsigned long& msg);
// The thread's blocked-signal mask, bit N-1 for signal N (the kernel's
// 64-bit sigset).
bool get_sigmask(pid_t tid, uint64_t& mask);
bool set_sigmask(pid_t tid, uint64_t mask);

}  // namespace uptrace::core::ptrace
