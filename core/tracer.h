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

// The user's probes resolved in one process: the sites to arm now, and the
// MODULE:s whose probes wait for a library loaded later (pending, no
// `loaded`) or sit in one that may be unloaded (mapped, with `loaded`).
struct ResolvedProbes {
  std::vector<ProbeSite> sites;
  std::vector<ModuleProbes> modules;
};
// Resolves the user's probes against the process `pid` as it is mapped now.
// Throws Error when a probe cannot be resolved.
using SiteResolver = std::function<ResolvedProbes(pid_t pid)>;

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

  // Resolves the probes of a library once it is loaded (see ResolvedProbes).
  void set_module_resolver(ModuleResolver resolve) { engine_->loader.set_resolver(std::move(resolve)); }

  std::span<const uint64_t> hit_counts() const { return engine_->reporter.counts(); }
  uint64_t start_ns() const { return engine_->reporter.start_ns(); }

 private:
  void check_can_attach(pid_t pid);
  void seize_all_threads(pid_t pid);
  // The armed line (user probes only), after arming `sites` in `proc`,
  // and the pending lines of SPEC "Libraries loaded later".
  void arm_and_announce(Process& proc, ResolvedProbes resolved);
  pid_t start_command(const std::vector<std::string>& argv, int& err_fd);
  // Launch: runs the new program up to its entry point, so the libraries it
  // loads at start are mapped when probes are resolved. False when it
  // exited first (its status is in the result).
  bool run_to_entry(pid_t pid, int err_fd, const std::string& command);
  void trace_and_detach();
  void emergency_cleanup() noexcept;

  std::unique_ptr<Engine> engine_;
};

}  // namespace uptrace::core
