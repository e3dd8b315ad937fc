#pragma once
// The cycle counter jump trampolines stamp their records with, read here on
// the host (the target runs on the same machine), and its conversion to
// CLOCK_MONOTONIC nanoseconds: at the rate the ISA states (aarch64:
// cntfrq_el0; ppc64: the kernel's "timebase" in /proc/cpuinfo; riscv64: the
// device tree's timebase-frequency), or by calibration against the clock
// (x86-64, riscv64 without a device tree).
#include <cstdint>

namespace uptrace::core {

// The counter the native ISA's trampolines read (x86-64: rdtsc; aarch64:
// cntvct_el0; ppc64: the time base; riscv64: rdtime); 0 where jump mode
// does not exist.
uint64_t read_cycle_counter();

class CycleClock {
 public:
  CycleClock();
  // Monotonic nanoseconds at counter value `cycles`.
  uint64_t to_monotonic_ns(uint64_t cycles);
  // Takes a new calibration point, so the rate sharpens as tracing goes on
  // (once per batch of records: it costs a clock_gettime).
  void recalibrate();

 private:
  uint64_t base_cycles_ = 0, base_ns_ = 0;
  uint64_t last_cycles_ = 0, last_ns_ = 0;
  double ns_per_cycle_ = 0;
  bool stated_ = false;  // ns_per_cycle_ is the ISA's stated rate
};

}  // namespace uptrace::core
