#pragma once
// Libraries loaded later (dlopen) and unloaded (dlclose), watched as gdb
// does: a stop at the dynamic linker's r_brk (_dl_debug_state), which it
// calls with r_state RT_ADD before it maps, RT_DELETE before it unmaps and
// RT_CONSISTENT once the link map is whole again. struct r_debug is found
// through the executable's DT_DEBUG, read from the target's memory.
//   RT_DELETE:     nothing changes. r_debug does not say which libraries
//                  go, and disarming them all until RT_CONSISTENT would
//                  lose the hits of other threads in those that stay. The
//                  ones that go have run their destructors already (glibc's
//                  _dl_close_worker calls them before RT_DELETE), so none
//                  of their code runs again before the unmap.
//   RT_CONSISTENT: a pending module that is mapped now is resolved (by the
//                  caller's ModuleResolver) and armed with its sites only;
//                  one that is gone has its sites forgotten (not restored:
//                  its memory went with the mapping, and whatever is mapped
//                  there now is not ours to write).
// Between the unmap and RT_CONSISTENT the journal still holds the gone
// library's bytes: detaching then forgets them first (forget_unmapped).
#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/address_space.h"
#include "core/arming.h"
#include "core/probe_site.h"
#include "core/session.h"
#include "core/thread_control.h"

namespace uptrace::core {

class EventLoop;

// The sites of `module`'s probes as it is mapped in `pid` now; nullopt while
// it is not mapped. Throws Error when they cannot be resolved there.
using ModuleResolver = std::function<std::optional<std::vector<ProbeSite>>(pid_t pid, const ModuleProbes& module)>;

class LoaderWatch {
 public:
  LoaderWatch(Session& session, ThreadControl& control, Arming& arming,
              std::function<void(const std::string&)> status)
      : session_(session), control_(control), arming_(arming), status_(std::move(status)) {}

  void set_resolver(ModuleResolver resolve) { resolve_ = std::move(resolve); }

  // Before the first arming of `proc` (stopped): records `modules` (pending
  // ones, and with `track_mapped` mapped ones that may be unloaded: -p) and,
  // when there are any, adds the site at r_brk to `sites`. Throws Error when
  // a module is pending and the process has no dynamic linker to watch.
  void prepare(Process& proc, std::vector<ModuleProbes> modules, bool track_mapped, std::vector<ProbeSite>& sites);
  // After the armed line: one line per pending module.
  void announce_pending(const Process& proc) const;
  // Thread `t` of `proc` stopped at r_brk (before its displaced instruction
  // runs): arms, disarms or forgets, with the world stopped, and resumes
  // every other thread; `t` stays stopped for its caller.
  void on_event(Thread& t, Process& proc, EventLoop& loop);
  // At the end: one line per module whose probes never got armed.
  void report_never_loaded() const;
  // Before the code is put back at detach: the sites of modules no longer
  // mapped (unloaded since the last RT_CONSISTENT) are forgotten, so that
  // nothing is written where they were.
  void forget_unmapped(Process& proc);

 private:
  std::optional<ProbeSite> watch_site(Process& proc, std::string& why);
  // Takes the sites in `range` out of use: a thread stopped on one of
  // their traps is put back before it, as if it had not got there yet;
  // then their bytes are put back (`restore`) or forgotten.
  void retire(Process& proc, AddressRange range, bool restore);
  // `event_thread`: the thread stopped at r_brk, which makes the system
  // calls. Another thread may be stopped between a step and its trap: a
  // system call stepped in it would take that trap for its own.
  void reconcile(Process& proc, Thread& event_thread, const std::function<void()>& stop_world);
  // Unmaps the scratch mappings whose slots all belong to sites of
  // libraries that are gone (each load gets its own): no thread may be in
  // one, nor stepping a copy there; the return trampoline's stays.
  void release_dead_slots(Process& proc, Thread& injector);

  Session& session_;
  ThreadControl& control_;
  Arming& arming_;
  std::function<void(const std::string&)> status_;
  ModuleResolver resolve_;
  struct Summary {
    pid_t pid;
    std::string name;
    size_t probes;
    bool armed;
  };
  std::vector<Summary> summary_;
};

}  // namespace uptrace::core
