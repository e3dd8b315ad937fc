#pragma once
// Why a thread stopped, decoded once from the waitpid status (rr's explicit
// "why did we stop" type) so nothing else ever looks at raw status ints.
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace uptrace::core {

struct Stop {
  enum class Kind : uint8_t {
    Exited,        // the thread is gone: exit_code
    Killed,        // the thread is gone: signal (killed by it)
    Signal,        // signal-delivery-stop: signal (not yet delivered)
    GroupStop,     // PTRACE_EVENT_STOP for a stopping signal: signal
    Interrupt,     // PTRACE_EVENT_STOP from PTRACE_INTERRUPT / a new thread's first stop
    Clone,         // PTRACE_EVENT_CLONE: new_tid
    Fork,          // PTRACE_EVENT_FORK: new_tid
    Vfork,         // PTRACE_EVENT_VFORK: new_tid
    VforkDone,     // PTRACE_EVENT_VFORK_DONE
    Exec,          // PTRACE_EVENT_EXEC: former_tid in new_tid
    Exit,          // PTRACE_EVENT_EXIT: exit_code is the wait status to come
    SyscallEntry,  // syscall-stop: only after ThreadControl::run of a thread that must enter one first
  };

  Kind kind = Kind::Interrupt;
  pid_t tid = 0;
  int signal = 0;
  int exit_code = 0;
  pid_t new_tid = 0;
  // How many SIGCONTs uptrace had seen when this stop was decoded
  // (ThreadControl::decode): a stop signal held from it is cancelled by a
  // later one, as the kernel cancels one still queued.
  uint64_t sigconts_seen = 0;

  bool thread_gone() const { return kind == Kind::Exited || kind == Kind::Killed; }
  // Decodes a status from waitpid(2) for `tid`. `event_msg` is fetched by the
  // caller only for event stops (see needs_event_message).
  static Stop from_wait_status(pid_t tid, int status);
  static bool needs_event_message(int status);
  void set_event_message(unsigned long msg);

  std::string describe() const;  // for diagnostics
};

}  // namespace uptrace::core
