#pragma once
// Where to put scratch mappings so that rel32 displacements and jumps from
// their slots reach the code they serve. Pure functions of the map.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"

namespace uptrace::core {

struct AddressRange {
  RuntimeAddr start;
  RuntimeAddr end;
  bool contains(RuntimeAddr a) const { return a >= start && a < end; }
};

// A page-aligned start for `size` bytes inside a gap of `occupied` (sorted or
// not), leaving a guard page on each side, as close as possible to `near` and
// no farther than `max_distance` from any byte of it, ending at or below
// `highest`. nullopt if none fits.
std::optional<RuntimeAddr> choose_scratch_address(const std::vector<AddressRange>& occupied, AddressRange near,
                                                  uint64_t size, uint64_t page_size,
                                                  uint64_t max_distance = uint64_t{1} << 30,
                                                  uint64_t highest = uint64_t{1} << 47);

// The highest address a scratch mapping may end at among these mappings:
// the end of the highest one (the stack, normally), leaving out what the
// kernel maps above user space (x86-64's [vsyscall]), so a 39-bit address
// space (riscv64 Sv39) is never taken for a 47-bit one.
uint64_t user_space_top(const std::vector<AddressRange>& occupied);

// One scratch mapping: the slots of the site groups `members` (indexes into
// the reaches given to plan_scratch), at `base`.
struct ScratchRegion {
  AddressRange near;
  std::vector<size_t> members;
  RuntimeAddr base;
  uint64_t size = 0;
};

struct ScratchPlan {
  std::vector<ScratchRegion> regions;
  std::string error;  // why a region could not be placed; then regions is incomplete
};

// Slots for site groups that must each be reached from `reaches[i]` (the
// group's module, or its function when the module spans more than one
// mapping can reach: node's text remapped high, say): groups whose reaches
// fit within one region share a mapping of `slot_size` bytes per group, the
// first mapping `extra_first` bytes more (the %return trampoline). Each
// mapping is placed within `reach` of its sites where a free range is
// (Isa::slot_reach: riscv64's jal), else within 1 GiB, the most any plan
// needs, as if reach were that.
ScratchPlan plan_scratch(const std::vector<AddressRange>& reaches, uint64_t slot_size, uint64_t extra_first,
                         std::vector<AddressRange> occupied, uint64_t page_size, pid_t pid,
                         uint64_t reach = uint64_t{1} << 30);

}  // namespace uptrace::core
