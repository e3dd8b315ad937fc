#pragma once
// Facts about a process read from /proc, without ptrace.
#include <sys/types.h>

// <cstdint> for the uint64_t below: GCC 14's libstdc++ (Debian 13, where the
// riscv64 stage builds) no longer brings it in with <optional> or <string>.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace uptrace::core::proc {

bool exists(pid_t pid);
std::vector<pid_t> threads(pid_t pid);  // /proc/PID/task; empty when gone
std::string command_name(pid_t pid);    // /proc/PID/comm without the newline
pid_t tracer_of(pid_t pid);             // TracerPid from /proc/PID/status, 0 if none
pid_t thread_group_of(pid_t tid);       // Tgid; 0 when gone
// Whether `sig` is pending for the thread itself (SigPnd of /proc/TID/status).
bool thread_signal_pending(pid_t tid, int sig);
// Whether `sig` is pending for the thread or for its whole process (ShdPnd).
bool signal_pending(pid_t tid, int sig);
// Whether the process runs with a hardware shadow stack (x86 CET user
// shadow stack: "x86_Thread_features: shstk" in /proc/PID/status, Linux
// 6.6+). A return address rewritten on the ordinary stack then no longer
// matches the shadow copy and `ret` faults.
bool shadow_stack_enabled(pid_t pid);
std::optional<uint64_t> aux_value(pid_t pid, unsigned long type);  // from /proc/PID/auxv
// /proc/sys/kernel/yama/ptrace_scope, or nullopt without Yama.
std::optional<int> yama_ptrace_scope();
// Why PTRACE_SEIZE of `pid` failed with `err`, with a hint, as one line.
std::string explain_attach_failure(pid_t pid, int err, std::string& hint);

}  // namespace uptrace::core::proc
