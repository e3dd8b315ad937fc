#include "cmd/aggregate.h"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

#include "common/error.h"

namespace uptrace::cmd {

namespace {

// 0: an integer, 1: a string, 2: unreadable.
int rank(const FetchedValue& v) {
  if (v.fault || v.optimized_out) return 2;
  return v.type == FetchType::String ? 1 : 0;
}

}  // namespace

void Durations::add(uint64_t ns) {
  ++calls;
  total += ns;
  min = std::min(min, ns);
  max = std::max(max, ns);
}

bool GroupKey::operator<(const GroupKey& other) const {
  const FetchedValue& a = value;
  const FetchedValue& b = other.value;
  if (rank(a) != rank(b)) return rank(a) < rank(b);
  switch (rank(a)) {
    case 0:
      if (fetch_type_is_signed(a.type) && fetch_type_is_signed(b.type))
        return static_cast<int64_t>(a.bits) < static_cast<int64_t>(b.bits);
      return a.bits < b.bits;
    case 1: return a.text < b.text;
    default: return std::tie(a.fault, a.optimized_out) < std::tie(b.fault, b.optimized_out);
  }
}

Aggregator::Source Aggregator::source(const std::string& option, const std::string& name, const ProbeLabel& label,
                                      bool for_hist) {
  const auto it = std::find(label.arg_names.begin(), label.arg_names.end(), name);
  if (it != label.arg_names.end()) return {Source::Kind::Value, static_cast<size_t>(it - label.arg_names.begin())};
  if (for_hist && name == "duration") return {Source::Kind::Duration, 0};
  if (!for_hist && name == "pid") return {Source::Kind::Pid, 0};
  if (!for_hist && name == "tid") return {Source::Kind::Tid, 0};
  std::string names;
  for (const std::string& n : label.arg_names) names += (names.empty() ? "" : " ") + n;
  throw_usage_hint(kAggregateNameHint, "{} {}: probe '{}' has no value named '{}' ({})", option, name, label.name, name,
              names.empty() ? std::string("it fetches none") : fmt::format("its values: {}", names));
}

Aggregator::Aggregator(AggregateOptions options, const std::vector<ProbeLabel>& labels)
    : options_(std::move(options)) {
  set_labels(labels);
}

void Aggregator::set_labels(const std::vector<ProbeLabel>& labels) {
  // Labels only grow (the resolver keeps one table): the groups gathered so
  // far stay where they are.
  const size_t known = groups_.size();
  hist_of_.resize(labels.size());
  by_of_.resize(labels.size());
  groups_.resize(labels.size());
  for (size_t i = known; i < labels.size(); ++i) {
    if (options_.hist) hist_of_[i] = source("--hist", *options_.hist, labels[i], true);
    if (options_.by) by_of_[i] = source("--by", *options_.by, labels[i], false);
  }
}

void Aggregator::add(const Hit& hit) {
  if (hit.probe >= groups_.size()) return;
  GroupKey key;
  if (const std::optional<Source>& by = by_of_[hit.probe]) {
    switch (by->kind) {
      case Source::Kind::Pid: key.value.bits = static_cast<uint64_t>(hit.pid); break;
      case Source::Kind::Tid: key.value.bits = static_cast<uint64_t>(hit.tid); break;
      case Source::Kind::Value:
        if (by->index < hit.values.size()) key.value = hit.values[by->index];
        else key.value.fault = true;
        break;
      case Source::Kind::Duration: break;
    }
  }
  Group& g = groups_[hit.probe][key];
  ++g.hits;
  const std::optional<uint64_t> duration = hit.duration_ns();
  if (duration) g.durations.add(*duration);
  const std::optional<Source>& hist = hist_of_[hit.probe];
  if (!hist) return;
  if (hist->kind == Source::Kind::Duration) {
    if (duration) g.hist.add(*duration, false);
    else ++g.not_counted;
    return;
  }
  const FetchedValue* v = hist->index < hit.values.size() ? &hit.values[hist->index] : nullptr;
  if (!v || v->fault || v->optimized_out || v->type == FetchType::String) {
    ++g.not_counted;
    return;
  }
  g.hist.add(v->bits, fetch_type_is_signed(v->type));
}

}  // namespace uptrace::cmd
