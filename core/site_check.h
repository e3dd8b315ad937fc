#pragma once
// The one check of a probe site, shared by arming and --explain, so both
// reach the same verdict: the ISA's analysis (core/site_plan.h), then what
// the live process must hold for it — the code in memory is the file's (else
// someone else's trap is there, or the program changed it), and for a jump,
// every byte it overwrites is the file's (a foreign trap among them is
// named), no other probe and no thread's pc lies inside them.
#include <sys/types.h>

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>

#include "arch/isa.h"
#include "common/memory.h"
#include "core/probe_site.h"
#include "core/site_plan.h"

namespace uptrace::core {

// What is known of the process around the site.
struct SiteEnvironment {
  MemoryAccess* live = nullptr;                        // null: the file alone (--explain -x)
  const std::set<uint64_t>* probe_addresses = nullptr;  // every probe being armed
  const std::map<pid_t, uint64_t>* thread_pcs = nullptr;  // the stopped threads' pcs
};

struct SiteVerdict {
  SitePlan plan;        // plan.analysis.plan is null when refused
  std::string refusal;  // why, when refused
};

// `group` are the probes at one address; see plan_site for the rest.
SiteVerdict check_site(const arch::Isa& isa, std::span<const ProbeSite* const> group, RuntimeAddr slot,
                       const PlanRequest& request, std::optional<RuntimeAddr> ring, uint32_t first_record,
                       const SiteEnvironment& env);

}  // namespace uptrace::core
