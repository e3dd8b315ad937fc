#pragma once
// The probes armed in one address space, with the journal of what was written
// into it and the scratch mappings created in it. A vfork child shares its
// parent's.
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
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
    // Evaluated by uptrace at a stop; a jump plan evaluates it in the
    // trampoline instead (JumpRecordSpec::filter), so drained records are
    // all kept hits.
    Filter filter = {};
  };
  std::vector<Probe> probes;
  // With a Return probe: ProbeSite::return_spill (the same for every probe
  // at one function entry).
  std::optional<int64_t> return_spill;
  // Where the plan's relay (arch::Relay) is, 0 without one: a thread there
  // is on its way into the slot.
  RuntimeAddr relay{0};
};

// The probes on one MODULE: that the program may map or unmap while it is
// traced (dlopen, dlclose): pending until it is loaded, armed while it is,
// forgotten once it is gone (core/loader_watch.h).
struct ModuleProbes {
  std::string name;  // MODULE as the user wrote it
  std::string file;  // the file its probes were checked against (where the program would load it from)
  size_t probes = 0;  // how many sites it had when checked
  struct Loaded {
    std::string path;    // as /proc/PID/maps names it
    AddressRange range;  // the module's mapped range, where its sites are
    bool armed = true;   // false when arming failed (said once): not tried again while it stays mapped
  };
  std::optional<Loaded> loaded;  // where its probes are armed; none while it is not loaded
};

// What uptrace watches of the dynamic linker in one address space.
struct LoaderState {
  RuntimeAddr r_debug{0};  // its struct r_debug (_r_debug, found through DT_DEBUG); 0 without a watch
  std::vector<ModuleProbes> modules;
  // The traced process the watch was set up in: a followed fork child
  // (-f) that loads a module counts for it.
  pid_t origin = 0;
};

struct AddressSpace {
  explicit AddressSpace(pid_t pid) : memory(pid), journal(memory) {}

  TraceeMemory memory;
  PatchJournal journal;
  std::vector<ArmedSite> sites;
  std::unordered_map<uint64_t, uint32_t> site_at;  // runtime address -> index in sites
  std::vector<AddressRange> scratch;               // mappings to unmap at the end
  std::optional<AddressRange> ring;                // the jump-probe ring, also unmapped at the end
  // The trap that hijacked returns come back to (core/return_probes.h);
  // 0 without %return probes. It lives in the first scratch mapping.
  RuntimeAddr return_trampoline{0};
  // Libraries loaded and unloaded while traced. Their sites stay in `sites`
  // once unmapped (indices are kept by jump records and steps in flight),
  // but leave `site_at`.
  LoaderState loader;

  const ArmedSite* site_for(RuntimeAddr a) const {
    auto it = site_at.find(a.value);
    return it == site_at.end() ? nullptr : &sites[it->second];
  }
  // Whether any site's code runs in its slot unwatched (boost, jump), so a
  // thread may be found there at any moment.
  bool free_running = false;
  // The site whose slot [slot, slot + stride) holds `pc`, or whose relay
  // is at `pc`.
  const ArmedSite* slot_owner(uint64_t pc, uint64_t stride) const {
    for (const ArmedSite& s : sites)
      if ((pc >= s.slot.value && pc - s.slot.value < stride) || (s.relay.value && pc == s.relay.value)) return &s;
    return nullptr;
  }
  int site_index(RuntimeAddr a) const {
    auto it = site_at.find(a.value);
    return it == site_at.end() ? -1 : static_cast<int>(it->second);
  }
};

}  // namespace uptrace::core
