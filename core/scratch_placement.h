#pragma once
// Where to put a scratch mapping so that rel32 displacements and jumps from
// its slots reach the module they serve. A pure function of the map.
#include <cstdint>
#include <optional>
#include <vector>

#include "common/address.h"

namespace uptrace::core {

struct AddressRange {
  RuntimeAddr start;
  RuntimeAddr end;
};

// A page-aligned start for `size` bytes inside a gap of `occupied` (sorted or
// not), leaving a guard page on each side, as close as possible to `near` and
// no farther than `max_distance` from any byte of it. nullopt if none fits.
std::optional<RuntimeAddr> choose_scratch_address(const std::vector<AddressRange>& occupied, AddressRange near,
                                                  uint64_t size, uint64_t page_size,
                                                  uint64_t max_distance = uint64_t{1} << 30);

}  // namespace uptrace::core
