#pragma once
// What the tracer knows about one traced process: its address space (shared
// with a vfork child), its threads, and its jump-probe ring.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/address_space.h"
#include "core/shared_ring.h"

namespace uptrace::core {

// A process's jump-probe ring and what its records mean (core/jump_hits.h).
struct JumpRing {
  std::unique_ptr<SharedRing> ring;
  // By record probe index: the armed site and probe, and the register words
  // the record's values are.
  struct Probe {
    uint32_t site;
    uint32_t probe;  // index into the site's probes
    std::vector<uint16_t> words;
  };
  std::vector<Probe> probes;
  // Which thread each thread pointer belongs to.
  std::unordered_map<uint64_t, pid_t> thread_by_pointer;
  std::unordered_map<pid_t, uint64_t> pointer_of_thread;
  // A vfork child runs on its parent thread's stack and thread pointer
  // while that thread waits: records with this pointer are the child's.
  std::unordered_map<uint64_t, pid_t> vfork_child_by_pointer;
  // Some thread's pointer does not point to itself (Go): records carry the
  // kernel's thread ids from then on (ring::kKernelTid), and a vfork
  // child's records carry its own.
  bool kernel_tids = false;
  std::set<pid_t> vfork_children;
};

struct Process {
  pid_t pid = 0;
  std::shared_ptr<AddressSpace> space;
  bool report_hits = true;  // false for children we only keep safe
  bool detach_on_exec = false;
  std::set<pid_t> threads;  // its traced threads (core/session.h keeps this)
  JumpRing jump;            // jump.ring is null without jump probes
};

}  // namespace uptrace::core
