#pragma once
// Fork, vfork, clone and exec: new threads join their process; a forked
// child either gets the original code back before it runs (DESIGN rule 6)
// or, with -f, its own copy of the slots, ring and journal; a vfork child
// runs on its parent's patched memory and is only watched; exec drops a
// process's probes (or lets a followed child go).
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <utility>

#include "core/jump_hits.h"
#include "core/return_probes.h"
#include "core/session.h"
#include "core/thread_control.h"
#include "core/xol_stepper.h"

namespace uptrace::core {

class Lineage {
 public:
  using Status = std::function<void(const std::string&)>;
  Lineage(Session& session, ThreadControl& control, XolStepper& stepper, JumpHits& jump, ReturnProbes& returns,
          bool follow_forks, Status status)
      : session_(session), control_(control), isa_(control.isa()), stepper_(stepper), jump_(jump), returns_(returns),
        follow_forks_(follow_forks), status_(std::move(status)) {}

  // The first stop of a tracee uptrace did not know: a new thread of a
  // traced process is registered and returned (its stop still to be
  // handled); a new process is settled once its parent's event says how it
  // was made (now, or when that event comes; `world_stopped` defers it).
  Thread* on_new_tracee(pid_t tid, const Stop& first_stop, bool world_stopped);
  // A fork/vfork/clone event stop of `parent` (not resumed here).
  void on_fork(Thread& parent, const Stop& stop);
  // After the world was stopped: children whose first stop came meanwhile.
  void settle_early_children();
  // An exec event stop; resumes or detaches the thread.
  void on_exec(Thread& t, pid_t main_pid);
  // Detach: a fork/vfork/clone event pending on `t` made a child that must
  // not keep uptrace's code; it is cleaned and let go.
  void release_child_of(Thread& t);

 private:
  void settle_child(pid_t child, pid_t parent, bool shares_memory);
  void follow_child(pid_t child, Process& parent);
  void let_go(Process& child, const Process& parent, const std::string& why);

  Session& session_;
  ThreadControl& control_;
  const arch::Isa& isa_;
  XolStepper& stepper_;
  JumpHits& jump_;
  ReturnProbes& returns_;
  bool follow_forks_;
  Status status_;
  // New tracees whose first stop came before their parent's fork event, and
  // fork events whose child has not stopped yet.
  std::map<pid_t, Stop> early_stops_;
  std::map<pid_t, std::pair<pid_t, bool>> expected_children_;  // child -> (parent, shares memory)
};

}  // namespace uptrace::core
