#include "core/scratch_placement.h"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

namespace uptrace::core {

namespace {
// The lowest user address mmap will hand out (vm.mmap_min_addr is usually 64 KiB).
constexpr uint64_t kLowest = 0x10000;
// No user space reaches this far (x86-64's [vsyscall] lives above it).
constexpr uint64_t kAboveUserSpace = uint64_t{1} << 56;
// How far one scratch mapping may be from the code it serves, and so how
// wide a region of sites one mapping can serve: every byte of the region
// must stay within reach of a slot placed near its middle.
constexpr uint64_t kMaxDistance = uint64_t{1} << 30;

uint64_t absolute_difference(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }
}  // namespace

std::optional<RuntimeAddr> choose_scratch_address(const std::vector<AddressRange>& occupied, AddressRange near,
                                                  uint64_t size, uint64_t page_size, uint64_t max_distance,
                                                  uint64_t highest) {
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
  if (cursor < highest) consider(cursor, highest);
  return best;
}

uint64_t user_space_top(const std::vector<AddressRange>& occupied) {
  uint64_t top = 0;
  for (const AddressRange& r : occupied)
    if (r.end.value <= kAboveUserSpace) top = std::max(top, r.end.value);
  return top;
}

ScratchPlan plan_scratch(const std::vector<AddressRange>& reaches, uint64_t slot_size, uint64_t extra_first,
                         std::vector<AddressRange> occupied, uint64_t page_size, pid_t pid, uint64_t reach) {
  reach = std::min(reach, kMaxDistance);
  const uint64_t span = reach / 2;
  std::vector<size_t> order(reaches.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return reaches[a].start < reaches[b].start; });
  ScratchPlan plan;
  for (size_t i : order) {
    ScratchRegion* last = plan.regions.empty() ? nullptr : &plan.regions.back();
    if (last) {
      const uint64_t start = std::min(last->near.start.value, reaches[i].start.value);
      const uint64_t end = std::max(last->near.end.value, reaches[i].end.value);
      if (end - start <= span) {
        last->near = {RuntimeAddr(start), RuntimeAddr(end)};
        last->members.push_back(i);
        continue;
      }
    }
    plan.regions.push_back({reaches[i], {i}, RuntimeAddr(0), 0});
  }
  const uint64_t highest = user_space_top(occupied);
  for (size_t r = 0; r < plan.regions.size(); ++r) {
    ScratchRegion& region = plan.regions[r];
    const uint64_t bytes = region.members.size() * slot_size + (r == 0 ? extra_first : 0);
    region.size = (bytes + page_size - 1) / page_size * page_size;
    auto at = choose_scratch_address(occupied, region.near, region.size, page_size, reach, highest);
    if (!at && reach < kMaxDistance)
      at = choose_scratch_address(occupied, region.near, region.size, page_size, kMaxDistance, highest);
    if (!at) {
      plan.error = fmt::format("no free address range of {} bytes within 1 GiB of {:#x}-{:#x} in pid {} for "
                               "uptrace's slots",
                               region.size, region.near.start.value, region.near.end.value, pid);
      return plan;
    }
    region.base = *at;
    occupied.push_back({*at, *at + region.size});
  }
  return plan;
}

}  // namespace uptrace::core
