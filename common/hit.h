#pragma once
// One reported probe hit, as core/ produces it and cmd/ prints it.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"
#include "common/fetch.h"

namespace uptrace {

struct Hit {
  uint64_t time_ns = 0;  // since the tracer started
  pid_t pid = 0;
  pid_t tid = 0;
  uint32_t probe = 0;    // index into the armed probe list
  RuntimeAddr addr;      // the probe site in the target
  std::vector<FetchedValue> values;  // one per fetch argument, in order
  std::vector<std::string> stack;    // --stack frames, innermost first
  // A FUNC%return hit: when its call entered FUNC (the frame it is paired
  // with, core/return_stack.h), on the clock of time_ns. Empty for every
  // other hit, and for a return whose entry time is not known.
  std::optional<uint64_t> entry_time_ns;
  // The call's duration, for a FUNC%return hit whose entry time is known.
  std::optional<uint64_t> duration_ns() const {
    if (!entry_time_ns) return std::nullopt;
    return time_ns > *entry_time_ns ? time_ns - *entry_time_ns : 0;
  }
};

// What the output needs to know about each probe.
struct ProbeLabel {
  std::string name;                  // normalised PROBE (SPEC.md "Output")
  std::vector<std::string> arg_names;
};

}  // namespace uptrace
