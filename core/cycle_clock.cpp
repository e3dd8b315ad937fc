#include "core/cycle_clock.h"

#include <time.h>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace uptrace::core {
namespace {

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Below this span the rate is too coarse to use; until then the nominal
// rate of the first two points is all there is.
constexpr uint64_t kMinCalibrationNs = 1000000;

}  // namespace

uint64_t read_cycle_counter() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  return 0;
#endif
}

CycleClock::CycleClock() {
  base_cycles_ = last_cycles_ = read_cycle_counter();
  base_ns_ = last_ns_ = monotonic_ns();
}

void CycleClock::recalibrate() {
  const uint64_t ns = monotonic_ns();
  const uint64_t cycles = read_cycle_counter();
  if (ns - base_ns_ < kMinCalibrationNs || cycles <= base_cycles_) return;
  last_ns_ = ns;
  last_cycles_ = cycles;
  ns_per_cycle_ = static_cast<double>(last_ns_ - base_ns_) / static_cast<double>(last_cycles_ - base_cycles_);
}

uint64_t CycleClock::to_monotonic_ns(uint64_t cycles) {
  if (ns_per_cycle_ == 0) recalibrate();
  if (ns_per_cycle_ == 0) return monotonic_ns();  // a hit within the first millisecond: close enough
  const double delta = static_cast<double>(static_cast<int64_t>(cycles - base_cycles_)) * ns_per_cycle_;
  return base_ns_ + static_cast<uint64_t>(static_cast<int64_t>(delta));
}

}  // namespace uptrace::core
