#pragma once
// The tracer's front door: attach to a process (-p) or launch one (--),
// resolve and arm the probes, run the event loop, and leave the process
// exactly as it was, on every path. The work is done by the parts in
// core/engine.h; docs/architecture.md walks one probe through them.
#include <sys/types.h>

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "core/engine.h"
#include "core/hit_reporter.h"
#include "core/probe_site.h"

namespace uptrace::core {

// Resolves the user's probes against the process `pid` as it is mapped now.
// Throws Error when a probe cannot be resolved.
using SiteResolver = std::function<std::vector<ProbeSite>(pid_t pid)>;

class Tracer {
 public:
  Tracer(const arch::Isa& isa, TraceOptions options, HitSink& sink);
  ~Tracer();
  Tracer(const Tracer&) = delete;
  Tracer& operator=(const Tracer&) = delete;

  // -p PID[,PID...]. All or nothing: throws Error before anything is
  // changed in any of them when a probe cannot be resolved or placed in one,
  // or one cannot be attached. Tracing ends when the last one is gone.
  TraceResult attach(const std::vector<pid_t>& pids, const SiteResolver& resolve);
  // -- COMMAND. The command runs to its end; its status is returned.
  TraceResult launch(const std::vector<std::string>& argv, const SiteResolver& resolve);

  std::span<const uint64_t> hit_counts() const { return engine_->reporter.counts(); }
  uint64_t start_ns() const { return engine_->reporter.start_ns(); }

 private:
  void check_can_attach(pid_t pid);
  void seize_all_threads(pid_t pid);
  void announce_armed(pid_t pid, size_t probes);
  pid_t start_command(const std::vector<std::string>& argv, int& err_fd);
  // Launch: runs the new program up to its entry point, so the libraries it
  // loads at start are mapped when probes are resolved. False when it
  // exited first (its status is in the result).
  bool run_to_entry(pid_t pid, int err_fd, const std::string& command);
  void arm_and_announce(Process& proc, const SiteResolver& resolve);
  void trace_and_detach();
  void emergency_cleanup() noexcept;

  std::unique_ptr<Engine> engine_;
};

}  // namespace uptrace::core
