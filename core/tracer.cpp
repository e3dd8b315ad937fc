#include "core/tracer.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/error.h"
#include "core/arming.h"
#include "core/detach.h"
#include "core/event_loop.h"
#include "core/proc_info.h"
#include "core/tracee_memory.h"
#include "core/unique_fd.h"

namespace uptrace::core {

Tracer::Tracer(const arch::Isa& isa, TraceOptions options, HitSink& sink)
    : engine_(std::make_unique<Engine>(isa, std::move(options), sink)) {}

Tracer::~Tracer() = default;

void Tracer::check_can_attach(pid_t pid) {
  if (pid <= 0 || !proc::exists(pid)) throw_runtime("no process with pid {}", pid);
  if (pid_t tracer = proc::tracer_of(pid))
    throw_runtime("pid {} is already traced by pid {} ({})", pid, tracer, proc::command_name(tracer));
  if (pid == ::getpid()) throw_runtime("uptrace cannot trace itself (pid {})", pid);
  // Reading its maps needs the same permission as ptrace: say so now, with
  // the hint, rather than fail on /proc/PID/maps.
  if (UniqueFd probe(::open(fmt::format("/proc/{}/mem", pid).c_str(), O_RDONLY | O_CLOEXEC)); !probe) {
    if (errno == EACCES || errno == EPERM) {
      std::string hint;
      std::string message = proc::explain_attach_failure(pid, EPERM, hint);
      throw Error(ErrorKind::Runtime, message, hint);
    }
  }
}

TraceResult Tracer::attach(const std::vector<pid_t>& pids, const SiteResolver& resolve) {
  Engine& e = *engine_;
  e.main_pid = pids.front();
  // Everything that can be refused is refused before any target is touched.
  std::vector<std::vector<ProbeSite>> sites;
  for (pid_t pid : pids) check_can_attach(pid);
  for (pid_t pid : pids) {
    sites.push_back(resolve(pid));
    std::unique_ptr<TraceeMemory> live;
    try {
      live = std::make_unique<TraceeMemory>(pid);
    } catch (const Error&) {
    }
    Arming::check_before_attach(e.isa, e.plan_request(), sites.back(), live.get());
  }
  EventLoop loop(e);
  // Told to quit while resolving (the front end killed, Ctrl-C): the
  // targets are still untouched, so leave them that way.
  if (loop.quit_signal_pending()) return e.result;

  try {
    for (pid_t pid : pids) {
      Process& proc = e.session.add_process(pid);
      proc.space = std::make_shared<AddressSpace>(pid);
      e.roots.insert(pid);
      seize_all_threads(pid);
    }
    loop.stop_world();
    for (size_t i = 0; i < pids.size(); ++i) {
      Process* p = e.session.process(pids[i]);
      if (!p) throw_runtime("pid {} exited before its probes were armed", pids[i]);
      const size_t n = sites[i].size();
      e.arming.arm(*p, std::move(sites[i]));
      announce_armed(pids[i], n);
    }
    if (!e.options.ready_file.empty()) {
      UniqueFd fd(::open(e.options.ready_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (!fd) throw_runtime("cannot create ready file {}: {}", e.options.ready_file, errno_text(errno));
    }
    loop.resume_world();
    trace_and_detach();
  } catch (...) {
    emergency_cleanup();
    throw;
  }
  return e.result;
}

void Tracer::announce_armed(pid_t pid, size_t probes) {
  engine_->status(fmt::format("{} probes armed in pid {}", probes, pid));
}

void Tracer::seize_all_threads(pid_t pid) {
  Engine& e = *engine_;
  // Threads may be created while we seize; those created by an already
  // seized thread are attached by the kernel (PTRACE_O_TRACECLONE), the
  // others show up in the next listing.
  for (;;) {
    std::vector<pid_t> tids = proc::threads(pid);
    if (tids.empty()) throw_runtime("no process with pid {}", pid);
    bool added = false;
    for (pid_t tid : tids) {
      if (e.session.thread(tid)) continue;
      int err = e.control.seize(tid);
      if (err == ESRCH) continue;
      if (err == EPERM && proc::tracer_of(tid) == ::getpid()) err = 0;  // auto-attached already
      if (err != 0) {
        std::string hint;
        std::string message = proc::explain_attach_failure(pid, err, hint);
        throw Error(ErrorKind::Runtime, message, hint);
      }
      e.session.add_thread(tid, pid);
      added = true;
    }
    if (!added) break;
  }
}

void Tracer::trace_and_detach() {
  EventLoop loop(*engine_);
  loop.run();
  Detach(*engine_, loop).run();
}

void Tracer::emergency_cleanup() noexcept {
  try {
    EventLoop loop(*engine_);
    Detach(*engine_, loop).run();
  } catch (const std::exception& ex) {
    engine_->status(fmt::format("warning: cleanup failed: {}", ex.what()));
  }
}

}  // namespace uptrace::core
