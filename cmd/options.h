#pragma once
// The command line of SPEC.md ("Synopsis", "Options"), parsed with CLI11.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "cmd/output.h"

namespace uptrace::cmd {

struct Options {
  // -p: every process to trace (repeated, or comma-separated); `pid` is the
  // first, and the one --list and --explain take.
  std::vector<pid_t> pids;
  std::optional<pid_t> pid;
  std::vector<std::string> command;  // after --
  std::optional<std::string> exe;    // -x
  std::vector<std::string> probes;   // or, with --list, the optional GLOB
  std::optional<std::string> output_path;
  OutputFormat format = OutputFormat::Text;
  bool count = false;                // -c; also --by without --hist
  std::optional<std::string> hist;   // --hist NAME
  std::optional<std::string> by;     // --by NAME
  uint64_t max_hits = 0;
  std::optional<double> duration_seconds;
  bool follow = false;
  bool stack = false;
  arch::ModeRequest mode = arch::ModeRequest::Auto;
  std::optional<std::string> ready_file;
  bool list = false;
  bool explain = false;
  bool quiet = false;
};

// What parsing decided: run with options, or exit now (help, version, or a
// usage error already printed) with a status.
struct ParseResult {
  std::optional<Options> options;
  int exit_status = 0;
};

ParseResult parse_command_line(int argc, char** argv);

}  // namespace uptrace::cmd
