#include "core/scratch_placement.h"

#include <algorithm>

namespace uptrace::core {

namespace {
// The lowest user address mmap will hand out (vm.mmap_min_addr is usually 64 KiB).
constexpr uint64_t kLowest = 0x10000;
// x86-64 and the others keep user space below 2^47 with 4-level tables.
constexpr uint64_t kHighest = uint64_t{1} << 47;

uint64_t absolute_difference(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }
}  // namespace

std::optional<RuntimeAddr> choose_scratch_address(const std::vector<AddressRange>& occupied, AddressRange near,
                                                  uint64_t size, uint64_t page_size, uint64_t max_distance) {
  std::vector<AddressRange> used = occupied;
  std::sort(used.begin(), used.end(), [](const AddressRange& a, const AddressRange& b) { return a.start < b.start; });
  size = (size + page_size - 1) / page_size * page_size;

  std::optional<RuntimeAddr> best;
  uint64_t best_distance = 0;
  auto consider = [&](uint64_t gap_start, uint64_t gap_end) {
    // Guard pages keep the kernel from merging our mapping with a neighbour.
    gap_start += page_size;
    if (gap_end < page_size) return;
    gap_end -= page_size;
    if (gap_end <= gap_start || gap_end - gap_start < size) return;
    // Candidates: the gap's two ends, and the point closest to `near`.
    uint64_t lo = gap_start, hi = gap_end - size;
    for (uint64_t at : {lo, hi}) {
      at = at / page_size * page_size;
      if (at < lo) at += page_size;
      if (at > hi) continue;
      uint64_t end = at + size;
      // The farthest pair of bytes, one in the scratch and one in `near`.
      uint64_t far_reach = std::max(absolute_difference(end, near.start.value), absolute_difference(near.end.value, at));
      if (far_reach > max_distance) continue;
      if (!best || far_reach < best_distance) {
        best = RuntimeAddr(at);
        best_distance = far_reach;
      }
    }
  };

  uint64_t cursor = kLowest;
  for (const AddressRange& r : used) {
    if (r.start.value > cursor) consider(cursor, r.start.value);
    cursor = std::max(cursor, r.end.value);
  }
  if (cursor < kHighest) consider(cursor, kHighest);
  return best;
}

}  // namespace uptrace::core
