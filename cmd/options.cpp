#include "cmd/options.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

namespace uptrace::cmd {

namespace {

constexpr const char* kDescription =
    "uptrace: uprobes in a running process, from the outside, with ptrace\n\n"
    "  uptrace [OPTIONS] -p PID[,PID...] PROBE...\n"
    "  uptrace [OPTIONS] PROBE... -- COMMAND [ARG...]\n"
    "  uptrace --list [GLOB] (-p PID | -x FILE)\n"
    "  uptrace --explain PROBE... (-p PID | -x FILE)\n\n"
    "PROBE    := [MODULE:]LOCATION [FETCH...] [if COND]; see uptrace(1)\n"
    "LOCATION := FUNC | FUNC+OFF | FUNC%return | 0xADDR | SRCFILE:LINE | %PROVIDER:NAME (a USDT marker)";

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> out;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

std::optional<pid_t> parse_pid(std::string_view text) {
  pid_t pid = 0;
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (err != std::errc() || end != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

int usage_error(const std::string& message) {
  std::cerr << "uptrace: " << message << " (see uptrace --help)\n";
  return 2;
}

}  // namespace

ParseResult parse_command_line(int argc, char** argv) {
  // Everything after the first "--" is the command, untouched by CLI11.
  std::vector<std::string> args;
  Options o;
  bool have_command = false;
  for (int i = 1; i < argc; ++i) {
    if (!have_command && std::strcmp(argv[i], "--") == 0) {
      have_command = true;
      continue;
    }
    (have_command ? o.command : args).push_back(argv[i]);
  }

  CLI::App app{kDescription, "uptrace"};
  app.set_version_flag("--version", std::string("uptrace ") + UPTRACE_VERSION);
  std::string format = "text", mode = "auto";
  std::optional<double> duration;
  // Signed, so "-n -3" is an error and not 2^64-3.
  std::optional<int64_t> max_hits;
  std::vector<std::string> pid_texts;
  app.add_option("-p,--pid", pid_texts, "attach to running processes (PID,PID,... or repeated) and all their threads")
      ->expected(1)
      ->take_all()
      ->allow_extra_args(false);
  app.add_option("-x,--exe", o.exe, "the ELF file for --list / --explain without a process");
  app.add_option("-o,--output", o.output_path, "write hits there instead of stdout");
  app.add_option("--format", format,
                 "text, json (JSON Lines), chrome (a trace-event file for Perfetto) or folded (with --stack: "
                 "stacks for flame graphs)");
  app.add_flag("-c,--count", o.count,
               "no line per hit; at exit one line per probe with its hit count (and for FUNC%return the total, "
               "min, avg and max duration of its calls)");
  app.add_option("--hist", o.hist,
                 "no line per hit; at exit a log2 histogram per probe of its value NAME, or of 'duration' (FUNC%return)")
      ->type_name("NAME");
  app.add_option("--by", o.by, "group -c counts and --hist histograms by the value NAME, 'pid' or 'tid' (implies -c "
                               "without --hist)")
      ->type_name("NAME");
  app.add_option("-n,--max-hits", max_hits, "detach and exit after N hits in all");
  app.add_option("-d,--duration", duration, "detach and exit after SEC seconds");
  app.add_flag("-f,--follow", o.follow, "follow forked children");
  app.add_flag("--stack", o.stack, "a backtrace with each hit");
  app.add_option("--mode", mode, "auto, trap, boost, emulate or jump");
  app.add_option("--ready-file", o.ready_file, "create PATH once every probe is armed");
  app.add_flag("--list", o.list, "list probe-able functions and USDT markers (optionally matching GLOB)");
  app.add_flag("--explain", o.explain, "show where each probe resolves and how it would run; change nothing");
  app.add_flag("-q,--quiet", o.quiet, "no status messages on stderr");
  app.add_option("probes", o.probes, "PROBE := [MODULE:]LOCATION [FETCH...] [if COND] (see uptrace(1))");

  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes a vector last-argument-first
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::CallForVersion& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::ParseError& e) {
    return {std::nullopt, usage_error(e.what())};
  }

  auto fmt_value = parse_output_format(format);
  if (!fmt_value)
    return {std::nullopt,
            usage_error(fmt::format("--format must be text, json, chrome or folded, not '{}'", format))};
  o.format = *fmt_value;
  // The exports are of hits; what --list, --explain and -c print has no
  // place in them.
  const bool export_format = o.format == OutputFormat::Chrome || o.format == OutputFormat::Folded;
  if (export_format && (o.list || o.explain))
    return {std::nullopt, usage_error(fmt::format("--format {} is for hits; {} prints text or json", format,
                                                  o.list ? "--list" : "--explain"))};
  if (export_format && (o.count || o.hist || o.by)) {
    const char* option = o.count ? "-c" : o.hist ? "--hist" : "--by";
    return {std::nullopt, usage_error(o.format == OutputFormat::Chrome
                                          ? fmt::format("{} does not go with --format chrome, a record of every hit", option)
                                          : fmt::format("{} does not go with --format folded, which counts the hits per "
                                                        "stack", option))};
  }
  if (o.format == OutputFormat::Folded && !o.stack)
    return {std::nullopt, usage_error("--format folded needs --stack: the stacks are what it folds")};
  auto mode_value = arch::parse_mode_request(mode);
  if (!mode_value)
    return {std::nullopt, usage_error(fmt::format("--mode must be auto, trap, boost, emulate or jump, not '{}'", mode))};
  o.mode = *mode_value;
  if (duration) {
    if (!(*duration > 0) || *duration > 1e9)
      return {std::nullopt, usage_error(fmt::format("-d needs a positive number of seconds, not '{}'", *duration))};
    o.duration_seconds = duration;
  }
  if (max_hits) {
    if (*max_hits <= 0) return {std::nullopt, usage_error(fmt::format("-n needs a positive number of hits, not {}", *max_hits))};
    o.max_hits = static_cast<uint64_t>(*max_hits);
  }
  for (const std::string& text : pid_texts) {
    for (std::string_view one : split_commas(text)) {
      const std::optional<pid_t> pid = parse_pid(one);
      if (!pid) return {std::nullopt, usage_error(fmt::format("-p needs positive pids, not '{}'", one))};
      if (std::find(o.pids.begin(), o.pids.end(), *pid) != o.pids.end())
        return {std::nullopt, usage_error(fmt::format("-p names pid {} twice", *pid))};
      o.pids.push_back(*pid);
    }
  }
  if (!o.pids.empty()) o.pid = o.pids.front();
  for (const auto& [option, name] : {std::pair{"--hist", &o.hist}, std::pair{"--by", &o.by}}) {
    if (*name && name->value().empty()) return {std::nullopt, usage_error(fmt::format("{} needs a NAME", option))};
  }
  if (o.by && !o.hist) o.count = true;

  int targets = (o.pid ? 1 : 0) + (have_command ? 1 : 0) + (o.exe ? 1 : 0);
  if (o.list && o.explain) return {std::nullopt, usage_error("--list and --explain do not go together")};
  if (o.list || o.explain) {
    const char* what = o.list ? "--list" : "--explain";
    if (have_command) return {std::nullopt, usage_error(fmt::format("{} takes -p PID or -x FILE, not a command", what))};
    if (targets != 1) return {std::nullopt, usage_error(fmt::format("{} needs exactly one of -p PID and -x FILE", what))};
    if (o.pids.size() > 1) return {std::nullopt, usage_error(fmt::format("{} takes one -p PID, not {}", what, o.pids.size()))};
    if (o.list && o.probes.size() > 1) return {std::nullopt, usage_error("--list takes at most one GLOB")};
    if (o.explain && o.probes.empty()) return {std::nullopt, usage_error("--explain needs at least one probe")};
    return {o, 0};
  }
  if (o.exe) return {std::nullopt, usage_error("-x is only for --list and --explain")};
  if (targets == 0) return {std::nullopt, usage_error("nothing to trace: give -p PID or -- COMMAND")};
  if (o.pid && have_command) return {std::nullopt, usage_error("give either -p PID or -- COMMAND, not both")};
  if (have_command && o.command.empty()) return {std::nullopt, usage_error("no command after --")};
  if (o.probes.empty()) return {std::nullopt, usage_error("no probe given")};
  return {o, 0};
}

}  // namespace uptrace::cmd
