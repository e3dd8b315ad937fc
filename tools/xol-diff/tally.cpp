#include "tally.h"

#include <algorithm>

#include <fmt/format.h>

namespace xol_diff {

void Counts::add(const Verdict& v) {
  ++boundaries;
  switch (v.status) {
    case Verdict::Status::Executed: ++executed; break;
    case Verdict::Status::Refused: ++refused; break;
    case Verdict::Status::Skipped: ++skipped; break;
  }
  if (!v.mismatches.empty()) ++mismatches;
  if (v.faulted) ++faulted;
  if (v.status == Verdict::Status::Executed) (v.mode == "emulate" ? emulated : stepped) += 1;
  out_of_line_runs += v.out_of_line_runs;
}

Counts& Counts::operator+=(const Counts& o) {
  boundaries += o.boundaries;
  executed += o.executed;
  refused += o.refused;
  skipped += o.skipped;
  mismatches += o.mismatches;
  faulted += o.faulted;
  emulated += o.emulated;
  stepped += o.stepped;
  out_of_line_runs += o.out_of_line_runs;
  return *this;
}

void Tally::add(const Verdict& v) {
  total_.add(v);
  by_class_[v.cls].add(v);
  if (v.status == Verdict::Status::Refused) ++refusals_[v.reason];
  if (v.status == Verdict::Status::Skipped) ++skips_[v.reason];
  for (const auto& n : v.notes) ++notes_[n];
  for (const auto& m : v.modes) ++modes_[m];
  if (v.status != Verdict::Status::Executed || !v.mismatches.empty() || !v.notes.empty()) interesting_.push_back(v);
}

std::string Tally::report(size_t max_mismatches) const {
  std::string out;
  out += fmt::format("{:<34} {:>9} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>7}\n", "class", "boundary", "executed",
                     "emulate", "trap", "refused", "skipped", "faulted", "oolruns", "mismat");
  std::vector<std::pair<std::string, Counts>> rows(by_class_.begin(), by_class_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.boundaries > b.second.boundaries; });
  auto row = [&](const std::string& name, const Counts& c) {
    out += fmt::format("{:<34} {:>9} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>7}\n", name, c.boundaries, c.executed,
                       c.emulated, c.stepped, c.refused, c.skipped, c.faulted, c.out_of_line_runs, c.mismatches);
  };
  for (const auto& [name, c] : rows) row(name, c);
  row("total", total_);
  auto reasons = [&](const char* title, const std::map<std::string, uint64_t>& m) {
    if (m.empty()) return;
    out += fmt::format("\n{}:\n", title);
    std::vector<std::pair<std::string, uint64_t>> r(m.begin(), m.end());
    std::sort(r.begin(), r.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [why, n] : r) out += fmt::format("  {:>7}  {}\n", n, why);
  };
  reasons("refused, by reason", refusals_);
  reasons("skipped (not executed), by reason", skips_);
  reasons("other layouts and modes refused (not counted above)", notes_);
  reasons("boost and jump modes, asked for at every executable boundary", modes_);
  size_t shown = 0;
  for (const Verdict& v : interesting_) {
    if (v.mismatches.empty()) continue;
    if (shown == 0) out += "\nmismatches:\n";
    if (shown++ == max_mismatches) {
      out += "  ... (more; use --max-reports)\n";
      break;
    }
    out += fmt::format("  {:#x} {}: {}  {}\n", v.addr, v.where, v.bytes, v.text);
    for (const auto& m : v.mismatches) out += fmt::format("      {}\n", m);
  }
  return out;
}

std::string Tally::explain() const {
  std::string out;
  for (const Verdict& v : interesting_) {
    if (v.status == Verdict::Status::Executed && v.notes.empty()) continue;
    out += fmt::format("{:#x} {}: {}  {}\n", v.addr, v.where, v.bytes, v.text);
    if (v.status == Verdict::Status::Refused) out += fmt::format("    refused: {}\n", v.reason);
    if (v.status == Verdict::Status::Skipped) out += fmt::format("    skipped: {}\n", v.reason);
    for (const auto& n : v.notes) out += fmt::format("    note: {}\n", n);
  }
  return out;
}

std::string summary_line(const Counts& c) {
  return fmt::format("boundaries={} executed={} refused={} skipped={} mismatches={}", c.boundaries, c.executed,
                     c.refused, c.skipped, c.mismatches);
}

}  // namespace xol_diff
