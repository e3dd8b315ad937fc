#pragma once
// What -c, --hist and --by gather from the kept hits, for the lines printed
// at exit (SPEC.md "Latency and aggregation"): per probe, or per probe and
// value of the --by NAME, the hits, the durations of returns (total, min,
// max) and the log2 histogram of the --hist NAME.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cmd/histogram.h"
#include "common/hit.h"

namespace uptrace::cmd {

// The hint of a --hist or --by NAME no probe value has.
inline constexpr const char* kAggregateNameHint =
    "name a value in the probe and use that name, e.g. 'size_of v=$arg1' --hist v; --hist also takes duration "
    "(FUNC%return), --by also pid and tid";

struct AggregateOptions {
  bool count = false;               // -c
  std::optional<std::string> hist;  // --hist NAME
  std::optional<std::string> by;    // --by NAME
  // No line per hit: everything is printed at exit.
  bool any() const { return count || hist || by; }
};

// The durations of one group's returns.
struct Durations {
  uint64_t calls = 0;
  uint64_t total = 0;
  uint64_t min = std::numeric_limits<uint64_t>::max();
  uint64_t max = 0;
  void add(uint64_t ns);
  uint64_t avg() const { return calls ? total / calls : 0; }
};

// A --by value as it is printed: a fetched value, or pid/tid as an s64.
// Ordered integers by value (as their type reads them), then strings, then
// values that could not be read.
struct GroupKey {
  FetchedValue value;
  bool operator<(const GroupKey& other) const;
};

struct Group {
  uint64_t hits = 0;
  Durations durations;
  Log2Histogram hist;
  uint64_t not_counted = 0;  // hits whose --hist value was unreadable or a string
};

class Aggregator {
 public:
  // Where NAME is in each probe's values is looked up once. Throws
  // Error(Usage) when a probe has no value NAME for --hist or --by (pid and
  // tid are every probe's; `duration` a FUNC%return's, when it fetches no
  // value of that name).
  Aggregator(AggregateOptions options, const std::vector<ProbeLabel>& labels);

  // The labels grew (probes resolved in another process): their sources are
  // looked up as the constructor does. Throws as it does.
  void set_labels(const std::vector<ProbeLabel>& labels);
  const AggregateOptions& options() const { return options_; }
  void add(const Hit& hit);
  // The groups of probe `label`, in key order; without --by, one (empty
  // key) once the probe has a hit.
  const std::map<GroupKey, Group>& groups(size_t label) const { return groups_.at(label); }
  size_t probes() const { return groups_.size(); }

 private:
  // Where a probe's NAME comes from: one of its values, or pid, tid or a
  // return's duration.
  struct Source {
    enum class Kind : uint8_t { Value, Pid, Tid, Duration } kind = Kind::Value;
    size_t index = 0;
  };
  static Source source(const std::string& option, const std::string& name, const ProbeLabel& label, bool for_hist);

  AggregateOptions options_;
  std::vector<std::optional<Source>> hist_of_, by_of_;  // per label
  std::vector<std::map<GroupKey, Group>> groups_;
};

}  // namespace uptrace::cmd
