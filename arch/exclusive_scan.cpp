#include "arch/exclusive_scan.h"

#include <cstdint>

namespace uptrace::arch {

std::optional<RuntimeAddr> exclusive_sequence_start(std::span<const uint8_t> function_code, RuntimeAddr function_start,
                                                    RuntimeAddr site, const ExclusiveClassifier& classify,
                                                    size_t window) {
  const int64_t site_offset = site - function_start;
  if (site_offset < 0 || static_cast<uint64_t>(site_offset) > function_code.size()) return std::nullopt;
  // The offset of the newest open sequence (SIZE_MAX: none), and the
  // instructions from it up to here.
  size_t open = SIZE_MAX;
  size_t since_open = 0;
  for (size_t at = 0; at < static_cast<size_t>(site_offset);) {
    const ExclusiveStep step = classify(function_code.subspan(at));
    if (step.length == 0) return std::nullopt;  // not decodable: nothing can be said, as before the scan
    if (step.kind == ExclusiveStep::Kind::Open) {
      open = at;
      since_open = 0;
    } else if (step.kind == ExclusiveStep::Kind::Close) {
      open = SIZE_MAX;
    }
    ++since_open;
    at += step.length;
  }
  if (open == SIZE_MAX || since_open > window) return std::nullopt;
  return function_start + open;
}

}  // namespace uptrace::arch
