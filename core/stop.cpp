#include "core/stop.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <fmt/format.h>

namespace uptrace::core {

namespace {
int ptrace_event(int status) { return (status >> 16) & 0xff; }
}  // namespace

Stop Stop::from_wait_status(pid_t tid, int status) {
  Stop s;
  s.tid = tid;
  if (WIFEXITED(status)) {
    s.kind = Kind::Exited;
    s.exit_code = WEXITSTATUS(status);
    return s;
  }
  if (WIFSIGNALED(status)) {
    s.kind = Kind::Killed;
    s.signal = WTERMSIG(status);
    return s;
  }
  s.signal = WSTOPSIG(status);
  switch (ptrace_event(status)) {
    case 0:
      // PTRACE_O_TRACESYSGOOD marks a syscall-stop; uptrace resumes with
      // PTRACE_SYSCALL only to stop at an entry, and leaves that with
      // PTRACE_CONT, so it never sees an exit.
      if (s.signal == (SIGTRAP | 0x80)) {
        s.kind = Kind::SyscallEntry;
        s.signal = 0;
      } else {
        s.kind = Kind::Signal;
      }
      break;
    case PTRACE_EVENT_STOP:
      // SIGTRAP marks PTRACE_INTERRUPT (and a new tracee's first stop); a
      // stopping signal marks group-stop.
      s.kind = (s.signal == SIGSTOP || s.signal == SIGTSTP || s.signal == SIGTTIN || s.signal == SIGTTOU)
                   ? Kind::GroupStop
                   : Kind::Interrupt;
      break;
    case PTRACE_EVENT_CLONE: s.kind = Kind::Clone; break;
    case PTRACE_EVENT_FORK: s.kind = Kind::Fork; break;
    case PTRACE_EVENT_VFORK: s.kind = Kind::Vfork; break;
    case PTRACE_EVENT_VFORK_DONE: s.kind = Kind::VforkDone; break;
    case PTRACE_EVENT_EXEC: s.kind = Kind::Exec; break;
    case PTRACE_EVENT_EXIT: s.kind = Kind::Exit; break;
    default: s.kind = Kind::Interrupt; break;
  }
  return s;
}

bool Stop::needs_event_message(int status) {
  if (!WIFSTOPPED(status)) return false;
  switch (ptrace_event(status)) {
    case PTRACE_EVENT_CLONE:
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_EXEC:
    case PTRACE_EVENT_EXIT:
      return true;
    default:
      return false;
  }
}

void Stop::set_event_message(unsigned long msg) {
  if (kind == Kind::Exit)
    exit_code = static_cast<int>(msg);
  else
    new_tid = static_cast<pid_t>(msg);
}

std::string Stop::describe() const {
  switch (kind) {
    case Kind::Exited: return fmt::format("tid {} exited with {}", tid, exit_code);
    case Kind::Killed: return fmt::format("tid {} killed by signal {}", tid, signal);
    case Kind::Signal: return fmt::format("tid {} signal {}", tid, signal);
    case Kind::GroupStop: return fmt::format("tid {} group-stop {}", tid, signal);
    case Kind::Interrupt: return fmt::format("tid {} interrupt-stop", tid);
    case Kind::SyscallEntry: return fmt::format("tid {} syscall-entry-stop", tid);
    case Kind::Clone: return fmt::format("tid {} clone {}", tid, new_tid);
    case Kind::Fork: return fmt::format("tid {} fork {}", tid, new_tid);
    case Kind::Vfork: return fmt::format("tid {} vfork {}", tid, new_tid);
    case Kind::VforkDone: return fmt::format("tid {} vfork-done", tid);
    case Kind::Exec: return fmt::format("tid {} exec (was {})", tid, new_tid);
    case Kind::Exit: return fmt::format("tid {} exiting", tid);
  }
  return "?";
}

}  // namespace uptrace::core
