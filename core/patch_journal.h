#pragma once
// Rule 1 of DESIGN.md: every byte written into the target's own memory is
// recorded (address, original, new) before it is written, and every exit path
// replays the journal backwards.
//
// Besides code, a count the program reads: a USDT marker's semaphore, which
// tells the program that a tracer is there. Other tracers (systemtap, perf,
// bpftrace) add to the same count while uptrace runs, so it is not put back
// to its old value but has uptrace's share taken out again.
#include <cstdint>
#include <vector>

#include "common/address.h"
#include "core/scratch_placement.h"
#include "core/tracee_memory.h"

namespace uptrace::core {

class PatchJournal {
 public:
  struct Entry {
    RuntimeAddr addr;
    std::vector<uint8_t> original;
    std::vector<uint8_t> patched;
    bool live = true;
    // A count (2 bytes, the target's byte order) that was raised by one:
    // reverting lowers it by one from whatever it holds then.
    bool counter = false;
  };

  explicit PatchJournal(TraceeMemory& memory) : memory_(&memory) {}

  // Records the original bytes, then writes `bytes`. Returns the entry's id.
  // Throws Error (and records nothing) when the range cannot be read or written.
  size_t patch(RuntimeAddr addr, std::span<const uint8_t> bytes);
  // Records, then adds one to the unsigned 16-bit count at `addr` (a USDT
  // semaphore). Throws Error as patch() does.
  size_t raise_counter(RuntimeAddr addr);
  // Puts one entry's original bytes back (a temporary patch).
  void revert(size_t id);
  // Puts every live entry back, newest first. Returns how many failed.
  size_t revert_all();
  // The same restoration applied to another address space that inherited
  // our patches (a forked child). Does not change this journal.
  size_t revert_all_in(TraceeMemory& other) const;
  // Takes over the live entries of `other`, whose address space this one is
  // a copy of (a followed fork child): restoring then restores the copy.
  void inherit(const PatchJournal& other);
  // Forget everything without writing (the address space is gone: exec).
  void clear() { entries_.clear(); }
  // Puts back the live code entries inside [start, end), newest first (a
  // library about to be unmapped); counters stay raised. Returns how many failed.
  size_t revert_range(AddressRange range);
  // Forgets the live entries inside [start, end) without writing: the
  // mapping they patched is gone, and whatever is there now is not ours.
  void forget_range(AddressRange range);
  bool empty() const;
  const std::vector<Entry>& entries() const { return entries_; }

 private:
  TraceeMemory* memory_;
  std::vector<Entry> entries_;
};

}  // namespace uptrace::core
