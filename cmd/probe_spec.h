#pragma once
// The probe grammar of SPEC.md ("Probes"): one command-line word each.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/condition.h"
#include "common/fetch.h"

namespace uptrace::cmd {

namespace loc {
struct Function {           // FUNC, FUNC+OFF, glob
  std::string name;
  uint64_t offset = 0;
  bool has_offset = false;  // "work+0" keeps its +0x0
  bool is_glob = false;     // name holds * ? or [
};
struct Return { std::string name; bool is_glob = false; };  // FUNC%return
struct Address { uint64_t addr = 0; };                      // 0xADDR (file vaddr)
struct SourceLine { std::string file; unsigned line = 0; }; // SRCFILE:LINE
struct Marker {             // %PROVIDER:NAME, a USDT marker; either may be a glob
  std::string provider;
  std::string name;
  bool is_glob = false;
};
}  // namespace loc

using Location = std::variant<loc::Function, loc::Return, loc::Address, loc::SourceLine, loc::Marker>;

struct ProbeSpec {
  std::string text;                   // the word as the user wrote it
  std::optional<std::string> module;  // MODULE: prefix, when given
  Location location;
  std::vector<FetchArg> args;
  std::optional<Condition> condition;  // `if COND`

  // SPEC.md "Output": the location normalised (module kept, offsets as +0x
  // hex). For a glob, pass the matched function name (a marker's
  // "PROVIDER:NAME").
  std::string display_name(std::string_view matched_function = {}) const;
};

// Throws Error(Usage) with one line naming the word and what is wrong.
ProbeSpec parse_probe(std::string_view word);

// One fetch argument "[NAME=]EXPR[:TYPE]" of the probe `word` (for the
// operands of a condition, cmd/condition_parser.h). Throws Error(Usage):
// `error_prefix` and what is wrong (by default the prefix names the
// argument and the probe).
FetchArg parse_fetch_arg(std::string_view word, std::string_view token, bool is_return_probe,
                         std::string error_prefix = {});

// Where a MODULE: prefix ends in `word`: its first ':' that is a colon
// alone, not part of a C++ "::" (and not inside a parameter list); npos
// when there is none. For --list's GLOB as for probes.
size_t module_separator(std::string_view word);

}  // namespace uptrace::cmd
