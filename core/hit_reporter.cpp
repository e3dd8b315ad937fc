#include "core/hit_reporter.h"

#include <time.h>

namespace uptrace::core {

namespace {

uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

HitReporter::HitReporter(const arch::Isa& isa, HitSink& sink, uint64_t max_hits, bool stack)
    : sink_(sink), max_hits_(max_hits), start_ns_(monotonic_ns()) {
  if (stack) backtracer_ = std::make_unique<Backtracer>(isa);
}

HitReporter::~HitReporter() = default;

uint64_t HitReporter::now_ns() const { return monotonic_ns() - start_ns_; }

uint64_t HitReporter::cycles_to_ns(uint64_t cycles) {
  const uint64_t at = clock_.to_monotonic_ns(cycles);
  return at > start_ns_ ? at - start_ns_ : 0;
}

void HitReporter::count_label(uint32_t label) {
  if (label != kInternalLabel && label >= counts_.size()) counts_.resize(label + 1);
}

bool HitReporter::report(uint32_t label) {
  ++counts_[label];
  hit_.probe = label;
  const bool sent = sink_.on_hit(hit_);
  // hit_ is reused: a field only some hits set must not stay for the next.
  hit_.entry_time_ns.reset();
  if (!sent || (max_hits_ && ++reported_ >= max_hits_)) {
    reporting_ = false;
    done_ = true;
    return false;
  }
  return true;
}

uint64_t HitReporter::stop_time(bool cycles) { return cycles ? cycles_to_ns(read_cycle_counter()) : now_ns(); }

void HitReporter::report_stop(const Thread& t, AddressSpace& space, const ArmedSite& site, ProbeRole role,
                              const arch::Regs& regs, uint64_t pc, uint64_t time_ns,
                              std::optional<uint64_t> entry_ns, const ReturnProbes& returns) {
  bool stack_taken = false;
  for (const ArmedSite::Probe& probe : site.probes) {
    if (!reporting_) break;
    if (probe.role != role) continue;
    hit_.time_ns = time_ns;
    hit_.pid = t.pid;
    hit_.tid = t.tid;
    hit_.addr = site.addr;
    hit_.entry_time_ns = entry_ns;
    probe.fetch.evaluate(regs, pc, space.memory, hit_.values);
    if (!probe.filter.keep(hit_.values, regs, pc, space.memory)) continue;
    if (backtracer_ && !stack_taken) {
      backtracer_->capture(t, space, regs, returns, hit_.stack);
      stack_taken = true;
    }
    report(probe.label);
  }
}

}  // namespace uptrace::core
