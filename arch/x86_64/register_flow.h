#pragma once
// Whether a register holds one table's address on every path to an
// instruction of a function and its parts (a switch's base loaded in an
// earlier block), for the jump analysis.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "arch/x86_64/jump_scan.h"

namespace uptrace::arch::x86_64::jump_analysis {

// The control flow of a function and its parts, as far as a proof that a
// register holds one value on every path needs it: each instruction's
// predecessors are the one before it (when that falls through), the direct
// branches to it, and the cases of the switches whose tables are known or
// assumed (an assumption each switch's own proof then discharges, by
// induction over the loads run: the first wrong base would need a path the
// walk did not see). Anything else that may enter an instruction (the
// function's entry, a branch from another function, an address the module
// stores or the function takes, which an indirect jump could go to)
// refuses; so an instruction with no predecessor is never run (alignment
// padding). Landing pads are the caller's to exclude.
class Flow {
 public:
  Flow(const std::vector<Part>& parts, const ImageReader& image, const ModuleBranches& module);

  void add_cases(const Loc& jmp, const std::vector<uint64_t>& cases);

  // Why `reg` may not hold `table` when load runs, or "" when it holds it
  // on every path: each path back from load meets `lea reg, [rip + table]`
  // before anything else writes reg.
  std::string holds(const Loc& load, unsigned reg, uint64_t table) const;

 private:
  bool within(uint64_t at) const;

  const ImageReader& image_;
  std::map<uint64_t, Loc> at_;
  std::vector<std::pair<uint64_t, uint64_t>> ranges_;
  std::multimap<uint64_t, Loc> branches_, cases_;
  std::set<uint64_t> taken_, outside_;
  std::optional<uint64_t> misaligned_;
  uint64_t entry_ = 0;
};

}  // namespace uptrace::arch::x86_64::jump_analysis
