// Tracer::launch: -- COMMAND, started under the tracer and armed at its
// entry point, before the first instruction of main runs.
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/error.h"
#include "core/event_loop.h"
#include "core/proc_info.h"
#include "core/tracer.h"
#include "core/tracee_memory.h"
#include "core/unique_fd.h"

namespace uptrace::core {

// Forks the command, stopped before exec until uptrace has seized it.
pid_t Tracer::start_command(const std::vector<std::string>& argv, int& err_fd) {
  int go[2], err_pipe[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    throw_runtime("cannot create a pipe: {}", errno_text(errno));
  const pid_t pid = ::fork();
  if (pid < 0) throw_runtime("cannot fork: {}", errno_text(errno));
  if (pid == 0) {
    // The command must not inherit the tracer's blocked signals.
    sigset_t unblock;
    sigemptyset(&unblock);
    sigaddset(&unblock, SIGCHLD);
    for (int s : engine_->options.quit_signals) sigaddset(&unblock, s);
    ::sigprocmask(SIG_UNBLOCK, &unblock, nullptr);
    ::close(go[1]);
    ::close(err_pipe[0]);
    char c;
    while (::read(go[0], &c, 1) < 0 && errno == EINTR) {
    }
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    int e = errno;
    (void)!::write(err_pipe[1], &e, sizeof e);
    ::_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
  }
  ::close(go[0]);
  ::close(err_pipe[1]);
  UniqueFd go_fd(go[1]);
  err_fd = err_pipe[0];
  if (int e = engine_->control.seize(pid); e != 0) {
    engine_->control.kill_and_reap(pid);
    ::close(err_fd);
    std::string hint;
    std::string message = proc::explain_attach_failure(pid, e, hint);
    throw Error(ErrorKind::Runtime, message, hint);
  }
  engine_->session.add_process(pid);
  engine_->session.add_thread(pid, pid);
  (void)!::write(go_fd.get(), "g", 1);
  return pid;
}

bool Tracer::run_to_entry(pid_t pid, int err_fd, const std::string& command) {
  Engine& e = *engine_;
  Thread& t = *e.session.thread(pid);
  // Until exec, the child is still uptrace's own code.
  for (;;) {
    const Stop stop = e.control.wait_stop(pid);
    if (stop.kind == Stop::Kind::Exec) break;
    if (stop.thread_gone()) {
      e.session.clear();
      int child_errno = 0;
      if (::read(err_fd, &child_errno, sizeof child_errno) == sizeof child_errno)
        throw Error(child_errno == ENOENT || child_errno == ENOTDIR ? 127 : 126,
                    fmt::format("cannot run '{}': {}", command, errno_text(child_errno)));
      throw_runtime("'{}' ended before it started", command);
    }
    e.control.run(t, stop.kind == Stop::Kind::Signal ? stop.signal : 0);
  }
  Process& proc = *e.session.process(pid);
  proc.space = std::make_shared<AddressSpace>(pid);
  auto entry = proc::aux_value(pid, AT_ENTRY);
  if (!entry) throw_runtime("cannot read the entry point of pid {} from /proc/{}/auxv", pid, pid);
  const size_t entry_patch = proc.space->journal.patch(RuntimeAddr(*entry), e.isa.breakpoint());
  e.control.run(t);
  arch::Regs regs;
  for (;;) {
    const Stop stop = e.control.wait_stop(pid);
    if (stop.thread_gone()) {
      e.result.target_exited = true;
      e.result.exit_code = stop.kind == Stop::Kind::Exited ? stop.exit_code : 0;
      e.result.term_signal = stop.kind == Stop::Kind::Killed ? stop.signal : 0;
      e.session.clear();
      return false;
    }
    if (stop.kind == Stop::Kind::Signal && stop.signal == SIGTRAP) {
      siginfo_t si{};
      e.control.siginfo(pid, si);
      e.control.regs(pid, regs);
      auto bp = e.isa.breakpoint_address(e.isa.pc(regs), si.si_code);
      if (bp && bp->value == *entry) break;
    }
    e.control.run(t, stop.kind == Stop::Kind::Signal ? stop.signal : 0);
  }
  proc.space->journal.revert(entry_patch);
  e.isa.set_pc(regs, *entry);
  e.control.set_regs(pid, regs);
  t.stopped = true;
  t.pending = Stop{Stop::Kind::Interrupt, pid};
  return true;
}

TraceResult Tracer::launch(const std::vector<std::string>& argv, const SiteResolver& resolve) {
  Engine& e = *engine_;
  e.launched = true;
  int err_raw = -1;
  const pid_t pid = start_command(argv, err_raw);
  UniqueFd err_fd(err_raw);
  e.main_pid = pid;
  e.roots.insert(pid);
  auto kill_child = [&] {
    e.control.kill_and_reap(pid);
    e.session.clear();
  };
  try {
    if (!run_to_entry(pid, err_fd.get(), argv[0])) return e.result;
    err_fd.reset();
    e.world_stopped = true;
    std::vector<ProbeSite> sites = resolve(pid);
    Process& proc = *e.session.process(pid);
    Arming::check_before_attach(e.isa, e.plan_request(), sites, &proc.space->memory);
    const size_t n = sites.size();
    e.arming.arm(proc, std::move(sites));
    announce_armed(pid, n);
    if (!e.options.ready_file.empty()) {
      UniqueFd fd(::open(e.options.ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (!fd) throw_runtime("cannot create ready file {}: {}", e.options.ready_file, errno_text(errno));
    }
  } catch (...) {
    kill_child();
    throw;
  }
  try {
    EventLoop(e).resume_world();
    trace_and_detach();
    if (!e.result.target_exited) {
      // Detached, the command runs on; its status is ours.
      const int status = e.control.wait_for_exit(pid);
      e.result.target_exited = true;
      e.result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
      e.result.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
  } catch (...) {
    emergency_cleanup();
    throw;
  }
  return e.result;
}

}  // namespace uptrace::core
