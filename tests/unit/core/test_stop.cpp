#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>

#include "core/stop.h"

using uptrace::core::Stop;

namespace {
// Builds wait statuses the way the kernel does.
int stopped(int sig, int event = 0) { return (event << 16) | (sig << 8) | 0x7f; }
int exited(int code) { return code << 8; }
int killed(int sig) { return sig; }
}  // namespace

TEST_CASE("wait statuses decode into explicit stop kinds", "[core][stop]") {
  CHECK(Stop::from_wait_status(7, exited(3)).kind == Stop::Kind::Exited);
  CHECK(Stop::from_wait_status(7, exited(3)).exit_code == 3);
  CHECK(Stop::from_wait_status(7, killed(SIGKILL)).kind == Stop::Kind::Killed);
  CHECK(Stop::from_wait_status(7, killed(SIGKILL)).signal == SIGKILL);
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP)).kind == Stop::Kind::Signal);
  CHECK(Stop::from_wait_status(7, stopped(SIGSEGV)).signal == SIGSEGV);
  // PTRACE_O_TRACESYSGOOD's syscall-stop is not a SIGTRAP to deliver.
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP | 0x80)).kind == Stop::Kind::SyscallEntry);
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP | 0x80)).signal == 0);
  // PTRACE_EVENT_STOP: SIGTRAP marks PTRACE_INTERRUPT, a stop signal group-stop.
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP, PTRACE_EVENT_STOP)).kind == Stop::Kind::Interrupt);
  for (int sig : {SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU})
    CHECK(Stop::from_wait_status(7, stopped(sig, PTRACE_EVENT_STOP)).kind == Stop::Kind::GroupStop);
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP, PTRACE_EVENT_CLONE)).kind == Stop::Kind::Clone);
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP, PTRACE_EVENT_FORK)).kind == Stop::Kind::Fork);
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP, PTRACE_EVENT_VFORK)).kind == Stop::Kind::Vfork);
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP, PTRACE_EVENT_VFORK_DONE)).kind == Stop::Kind::VforkDone);
  CHECK(Stop::from_wait_status(7, stopped(SIGTRAP, PTRACE_EVENT_EXEC)).kind == Stop::Kind::Exec);
}

TEST_CASE("event stops that carry a message take it", "[core][stop]") {
  CHECK(Stop::needs_event_message(stopped(SIGTRAP, PTRACE_EVENT_CLONE)));
  CHECK(Stop::needs_event_message(stopped(SIGTRAP, PTRACE_EVENT_EXEC)));
  CHECK_FALSE(Stop::needs_event_message(stopped(SIGTRAP)));
  CHECK_FALSE(Stop::needs_event_message(exited(0)));
  Stop fork = Stop::from_wait_status(7, stopped(SIGTRAP, PTRACE_EVENT_FORK));
  fork.set_event_message(1234);
  CHECK(fork.new_tid == 1234);
}
