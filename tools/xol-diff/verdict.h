#pragma once
// What xol-diff concluded about one instruction boundary, and its one-line
// form for passing from a worker process to the parent.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace xol_diff {

struct Verdict {
  enum class Status : uint8_t { Executed, Refused, Skipped };
  Status status = Status::Skipped;
  uint64_t addr = 0;        // file address
  std::string where;        // function+offset
  std::string bytes;        // "48 89 e5"
  std::string text;         // disassembly
  std::string cls;          // table class
  std::string mode;         // the plan's mode (emulate, trap), when there is a plan
  std::string reason;       // refusal or skip reason
  bool faulted = false;     // the base run faulted in place
  unsigned out_of_line_runs = 0;
  std::vector<std::string> mismatches;  // "variant: difference; difference"
  std::vector<std::string> notes;       // refusals of other layouts, for --explain
  // The faster modes (boost, jump) asked for explicitly: "boost: plan" or
  // "jump: <refusal>"; counted, not listed per boundary.
  std::vector<std::string> modes;

  std::string serialize() const;
  static std::optional<Verdict> parse(std::string_view line);
};

}  // namespace xol_diff
