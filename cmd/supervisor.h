#pragma once
// The process the user starts is only a front end: the ptrace engine runs in
// a child that outlives it. If the front end is killed (even with SIGKILL),
// the engine gets SIGTERM from the kernel (PR_SET_PDEATHSIG) and detaches as
// on any quit signal, restoring the target's code. The front end forwards
// SIGINT/SIGTERM/SIGHUP to the engine and exits with its status.
#include <functional>

namespace uptrace::cmd {

// Runs `engine` in a child process under a front end; returns the exit
// status to use. In the child, `engine`'s result is the process's exit code.
int run_supervised(const std::function<int()>& engine);

}  // namespace uptrace::cmd
