#pragma once
// The probes armed in one address space, with the journal of what was written
// into it and the scratch mappings created in it. A vfork child shares its
// parent's.
#include <sys/types.h>

#include <memory>
#include <unordered_map>
#include <vector>

#include "arch/isa.h"
#include "core/fetch_program.h"
#include "core/patch_journal.h"
#include "core/probe_site.h"
#include "core/scratch_placement.h"
#include "core/tracee_memory.h"

namespace uptrace::core {

struct ArmedSite {
  RuntimeAddr addr;
  RuntimeAddr slot;
  // Immutable once made; a followed fork child shares its parent's.
  std::shared_ptr<const arch::ProbePlan> plan;
  struct Probe {
    uint32_t label;
    FetchProgram fetch;
    ProbeRole role = ProbeRole::Entry;
  };
  std::vector<Probe> probes;
};

struct AddressSpace {
  explicit AddressSpace(pid_t pid) : memory(pid), journal(memory) {}

  TraceeMemory memory;
  PatchJournal journal;
  std::vector<ArmedSite> sites;
  std::unordered_map<uint64_t, uint32_t> site_at;  // runtime address -> index in sites
  std::vector<AddressRange> scratch;               // mappings to unmap at the end
  // The trap that hijacked returns come back to (core/return_probes.h);
  // 0 without %return probes. It lives in the first scratch mapping.
  RuntimeAddr return_trampoline{0};

  const ArmedSite* site_for(RuntimeAddr a) const {
    auto it = site_at.find(a.value);
    return it == site_at.end() ? nullptr : &sites[it->second];
  }
  int site_index(RuntimeAddr a) const {
    auto it = site_at.find(a.value);
    return it == site_at.end() ? -1 : static_cast<int>(it->second);
  }
};

}  // namespace uptrace::core
