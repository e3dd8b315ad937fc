#pragma once
// Arming: probes resolved in a stopped process become slots in scratch
// mappings near the code they serve (one per region of probed code), the
// jump ring, and, last, the traps and jumps written over the sites. Nothing
// the program runs changes until every site has passed the one site check
// (core/site_check.h) that --explain uses too.
#include <sys/types.h>

#include <map>
#include <vector>

#include "arch/isa.h"
#include "core/hit_reporter.h"
#include "core/jump_hits.h"
#include "core/probe_site.h"
#include "core/scratch_placement.h"
#include "core/session.h"
#include "core/site_check.h"
#include "core/site_plan.h"
#include "core/thread_control.h"

namespace uptrace::core {

// Where each group of probes' slots would go in process `pid` as mapped now,
// for arming and for --explain -p: one reach per group (see plan_scratch).
ScratchPlan plan_slots(const arch::Isa& isa, const std::vector<std::vector<const ProbeSite*>>& groups,
                       bool with_return_trampoline, pid_t pid);

// Groups probes by address: the probes at one address share one trap, one
// slot and one plan.
std::vector<std::vector<ProbeSite*>> group_by_address(std::vector<ProbeSite>& sites);

class Arming {
 public:
  Arming(Session& session, ThreadControl& control, JumpHits& jump, HitReporter& reporter, PlanRequest request,
         bool stack)
      : session_(session), control_(control), isa_(control.isa()), jump_(jump), reporter_(reporter), request_(request),
        stack_(stack) {}

  // Called again for each library loaded later, with its sites only.
  // Throws Error naming the probe that cannot be placed; the target's code
  // is then unchanged (scratch mappings already made are in the space's
  // list, for detach to remove). `injector`: the stopped thread that makes
  // the system calls (mmap); by default the process's leader, which must
  // then not be in the middle of a step (a thread at a loader event is not).
  void arm(Process& proc, std::vector<ProbeSite> sites, Thread* injector = nullptr);
  // The bytes written over an armed site: its jump, or the trap.
  std::vector<uint8_t> site_patch(const ArmedSite& site) const;
  // Before attaching: refuses what can be refused from the file and the
  // live memory alone (`live` may be null).
  static void check_before_attach(const arch::Isa& isa, const PlanRequest& request, const std::vector<ProbeSite>& sites,
                                  MemoryAccess* live);

 private:
  RuntimeAddr map_scratch(Process& proc, Thread& injector, const ScratchRegion& region);
  std::map<pid_t, uint64_t> thread_pcs(const Process& proc);
  PlanRequest request_for(const std::vector<ProbeSite*>& group) const;
  void write_site(Process& proc, std::vector<ProbeSite*>& group, RuntimeAddr slot, SiteVerdict verdict);

  Session& session_;
  ThreadControl& control_;
  const arch::Isa& isa_;
  JumpHits& jump_;
  HitReporter& reporter_;
  PlanRequest request_;
  bool stack_;
};

}  // namespace uptrace::core
