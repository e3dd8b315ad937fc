#pragma once
// Counting and reporting hits: the per-probe counts, the -n limit, the hit
// sink (cmd/'s writer), the clock hits are stamped with, and what a hit at a
// stop carries (fetched values, --stack). Jump records and stop hits both
// end here.
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "common/hit.h"
#include "core/address_space.h"
#include "core/backtrace.h"
#include "core/cycle_clock.h"
#include "core/return_probes.h"
#include "core/thread.h"

namespace uptrace::core {

class HitSink {
 public:
  virtual ~HitSink() = default;
  // Both return false when output can no longer be written: tracing ends.
  virtual bool on_hit(const Hit& hit) = 0;
  // Called before the tracer blocks waiting for events.
  virtual bool flush() = 0;
  // `hits` hits of process `pid` could not be reported, and why (one
  // phrase). Never expected; when it happens it must not go unsaid.
  virtual void on_lost(pid_t pid, uint64_t hits, const std::string& why) = 0;
};

class HitReporter {
 public:
  // `max_hits` 0: no limit. `stack`: --stack.
  HitReporter(const arch::Isa& isa, HitSink& sink, uint64_t max_hits, bool stack);
  ~HitReporter();

  // The hit being built; report() sends it under `label`. False once
  // tracing must end (-n reached, output gone): nothing more is reported.
  Hit& hit() { return hit_; }
  bool report(uint32_t label);
  // The time of a stop now, since the start: on the jump records' clock
  // when `cycles` (the process has a ring, so its stops and records are in
  // one order), else on the monotonic clock.
  uint64_t stop_time(bool cycles);
  // Reports the probes of `site` that have `role` for thread `t` stopped
  // with `regs`, with `pc` as $pc, stamped `time_ns` (stop_time());
  // `entry_ns`: a return's entry time (Hit::entry_time_ns).
  void report_stop(const Thread& t, AddressSpace& space, const ArmedSite& site, ProbeRole role,
                   const arch::Regs& regs, uint64_t pc, uint64_t time_ns, std::optional<uint64_t> entry_ns,
                   const ReturnProbes& returns);
  void lost(pid_t pid, uint64_t hits, const std::string& why) { sink_.on_lost(pid, hits, why); }
  bool flush() { return sink_.flush(); }

  // Whether hits are reported: false once -n is reached or output failed,
  // and while detaching until the rings are read.
  bool reporting() const { return reporting_; }
  bool done() const { return done_; }
  void pause() { reporting_ = false; }
  void resume() { reporting_ = !done_; }

  void count_label(uint32_t label);  // makes room for a label's count
  std::span<const uint64_t> counts() const { return counts_; }
  uint64_t start_ns() const { return start_ns_; }
  uint64_t now_ns() const;  // since the tracer started
  // Converts a jump record's cycle counter value to time since the start.
  uint64_t cycles_to_ns(uint64_t cycles);
  void recalibrate() { clock_.recalibrate(); }

 private:
  HitSink& sink_;
  uint64_t max_hits_;
  std::vector<uint64_t> counts_;
  uint64_t reported_ = 0;
  uint64_t start_ns_;
  bool reporting_ = true;
  bool done_ = false;
  Hit hit_;  // reused per hit, so its vectors keep their capacity
  CycleClock clock_;
  std::unique_ptr<Backtracer> backtracer_;  // with --stack
};

}  // namespace uptrace::core
