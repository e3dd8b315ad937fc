#include "cmd/supervisor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/error.h"

namespace uptrace::cmd {

int run_supervised(const std::function<int()>& engine) {
  // Blocked before the fork, so neither process can miss one: the front end
  // waits for them with sigwaitinfo, the engine's tracer with sigtimedwait.
  sigset_t signals;
  sigemptyset(&signals);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&signals, s);
  sigprocmask(SIG_BLOCK, &signals, nullptr);

  pid_t front = ::getpid();
  std::fflush(nullptr);
  pid_t child = ::fork();
  if (child < 0) throw_runtime("cannot fork the tracing process: {}", errno_text(errno));
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    // The front end may have died before the line above took effect.
    if (::getppid() != front) ::kill(::getpid(), SIGTERM);
    int status = engine();
    std::fflush(nullptr);
    ::_exit(status);
  }

  for (;;) {
    siginfo_t info;
    int sig = ::sigwaitinfo(&signals, &info);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      ::kill(child, sig);
      continue;
    }
    int status = 0;
    pid_t r = ::waitpid(child, &status, WNOHANG);
    if (r != child) continue;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    std::fprintf(stderr, "uptrace: internal error: the tracing process was killed by signal %d (%s)\n",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    return 1;
  }
}

}  // namespace uptrace::cmd
