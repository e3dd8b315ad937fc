#include "core/cycle_clock.h"

#include <time.h>

#include <fstream>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif
#if defined(__powerpc64__)
#include <cstdlib>
#include <fstream>
#include <string>
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
#elif defined(__aarch64__)
  // What aarch64 trampolines read (arch/aarch64/jump.h): the virtual
  // counter, which Linux lets user space read and which ticks at
  // cntfrq_el0 on every CPU alike.
  uint64_t v;
  asm volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
  return v;
#elif defined(__powerpc64__)
  // What ppc64le trampolines read (arch/ppc64le/jump.h): the time base
  // (mfspr 268), readable in user space and the same on every CPU.
  uint64_t v;
  asm volatile("mfspr %0, 268" : "=r"(v));
  return v;
#elif defined(__riscv) && __riscv_xlen == 64
  // What riscv64 trampolines read (arch/riscv64/jump.h): the time CSR,
  // which Linux lets user space read and which ticks at the platform's
  // timebase frequency on every hart alike.
  uint64_t v;
  asm volatile("rdtime %0" : "=r"(v));
  return v;
#else
  return 0;
#endif
}

namespace {

#if defined(__riscv)
// The rate of riscv64's time CSR: the device tree's
// /cpus/timebase-frequency, a big-endian 32-bit cell (64-bit where it is
// two); 0 where there is no device tree (ACPI machines), and then the
// clock is calibrated instead.
uint64_t timebase_hz() {
  for (const char* path : {"/proc/device-tree/cpus/timebase-frequency",
                           "/sys/firmware/devicetree/base/cpus/timebase-frequency"}) {
    std::ifstream in(path, std::ios::binary);
    unsigned char b[8];
    in.read(reinterpret_cast<char*>(b), sizeof b);
    const std::streamsize n = in.gcount();
    if (n != 4 && n != 8) continue;
    uint64_t hz = 0;
    for (std::streamsize i = 0; i < n; ++i) hz = hz << 8 | b[i];
    if (hz) return hz;
  }
  return 0;
}
#endif

// The counter's rate where the ISA states it, in ns per tick; 0 where it
// must be measured (x86-64's TSC rate is not architecturally readable).
double stated_ns_per_cycle() {
#if defined(__aarch64__)
  uint64_t hz;
  asm volatile("mrs %0, cntfrq_el0" : "=r"(hz));
  return hz ? 1e9 / static_cast<double>(hz) : 0;
#elif defined(__powerpc64__)
  // No user-space register holds the time base's rate; the kernel states
  // it (tb_ticks_per_sec) in /proc/cpuinfo's summary: "timebase\t: 512000000".
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("timebase")) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const double hz = std::strtod(line.c_str() + colon + 1, nullptr);
    return hz > 0 ? 1e9 / hz : 0;
  }
  return 0;
#elif defined(__riscv)
  const uint64_t hz = timebase_hz();
  return hz ? 1e9 / static_cast<double>(hz) : 0;
#else
  return 0;
#endif
}

}  // namespace

CycleClock::CycleClock() {
  base_cycles_ = last_cycles_ = read_cycle_counter();
  base_ns_ = last_ns_ = monotonic_ns();
  ns_per_cycle_ = stated_ns_per_cycle();
  stated_ = ns_per_cycle_ != 0;
}

void CycleClock::recalibrate() {
  if (stated_) return;  // exact: a measurement could only add its own error
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
