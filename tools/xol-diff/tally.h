#pragma once
// Counting verdicts by class, and the report: the table, refusals and skips
// by reason, mismatches, and the summary line.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "verdict.h"

namespace xol_diff {

struct Counts {
  uint64_t boundaries = 0, executed = 0, refused = 0, skipped = 0, mismatches = 0;
  uint64_t faulted = 0, emulated = 0, stepped = 0, out_of_line_runs = 0;
  void add(const Verdict& v);
  Counts& operator+=(const Counts& o);
};

class Tally {
 public:
  void add(const Verdict& v);
  const Counts& total() const { return total_; }
  // The table by class, refusal and skip reasons with counts, and up to
  // `max_mismatches` mismatch reports.
  std::string report(size_t max_mismatches) const;
  // Every refused or skipped boundary with its reason, and the notes.
  std::string explain() const;

 private:
  Counts total_;
  std::map<std::string, Counts> by_class_;
  std::map<std::string, uint64_t> refusals_, skips_, notes_, modes_;
  std::vector<Verdict> interesting_;  // refused, skipped, mismatching or with notes
};

// boundaries=N executed=E refused=R skipped=S mismatches=M
std::string summary_line(const Counts& c);

}  // namespace xol_diff
