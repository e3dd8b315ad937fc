#pragma once
// Everything one tracing run is made of, owned together so the parts that
// act on it (core/event_loop.h, core/detach.h, core/tracer.h) can be told
// apart by what they do rather than by what they hold. See
// docs/architecture.md for who calls whom.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "core/arming.h"
#include "core/hit_reporter.h"
#include "core/jump_hits.h"
#include "core/lineage.h"
#include "core/return_probes.h"
#include "core/session.h"
#include "core/site_plan.h"
#include "core/thread_control.h"
#include "core/xol_stepper.h"

namespace uptrace::core {

struct TraceOptions {
  arch::ModeRequest mode = arch::ModeRequest::Auto;
  uint64_t max_hits = 0;  // 0: no limit
  std::optional<std::chrono::nanoseconds> duration;
  bool follow_forks = false;
  bool stack = false;  // --stack: a backtrace with each hit
  std::string ready_file;
  // Prints one status line ("uptrace: ..." is added by the callee); empty
  // function when quiet.
  std::function<void(const std::string&)> status;
  // Signals that end tracing (blocked by the caller; waited for here).
  std::vector<int> quit_signals{SIGINT, SIGTERM, SIGHUP};
};

struct TraceResult {
  bool target_exited = false;  // the (main) target ended while traced
  int exit_code = 0;           // its exit status, or
  int term_signal = 0;         // the signal that killed it
};

struct Engine {
  Engine(const arch::Isa& isa, TraceOptions options, HitSink& sink);

  const arch::Isa& isa;
  TraceOptions options;
  Session session;
  ThreadControl control;
  HitReporter reporter;
  JumpHits jump;
  XolStepper stepper;
  ReturnProbes returns;
  Lineage lineage;
  Arming arming;

  pid_t main_pid = 0;        // the launched command, or the first attached process
  std::set<pid_t> roots;     // the processes given (-p, --), while they live
  bool launched = false;
  bool world_stopped = false;
  bool quit = false;
  TraceResult result;

  void status(const std::string& line) const {
    if (options.status) options.status(line);
  }
  PlanRequest plan_request() const { return {options.mode, control.step_mechanism()}; }
};

}  // namespace uptrace::core
