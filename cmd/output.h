#pragma once
// The hit writers of SPEC.md "Output": a text line or a JSON Lines object per
// hit, or with -c one line per probe at exit; or an export for other tools
// (cmd/chrome_writer.cpp, cmd/folded_writer.cpp). Output is buffered and written
// in large chunks; the tracer calls flush() before it blocks for events, so a
// reader sees each hit as soon as the tracer has nothing else to do.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cmd/aggregate.h"
#include "cmd/histogram.h"
#include "common/hit.h"

namespace uptrace::cmd {

enum class OutputFormat {
  Text,
  Json,
  Chrome,  // one Chrome trace-event JSON array (Perfetto, chrome://tracing)
  Folded,  // with --stack: "frame;...;probe COUNT" lines at exit, for flame graphs
};

// "text" / "json" / "chrome" / "folded" (the --format values); nullopt for
// anything else.
std::optional<OutputFormat> parse_output_format(std::string_view text);

class HitWriter {
 public:
  // Writes to `fd` without owning it. `labels` are indexed by Hit::probe.
  // Makes sure a closed reader cannot kill the tracer (see
  // survive_closed_output): the write reports EPIPE instead.
  static std::unique_ptr<HitWriter> create(OutputFormat format, bool count_only, int fd,
                                           std::vector<ProbeLabel> labels);
  // For -o: creates or truncates `path` (close-on-exec, so a COMMAND started
  // with `--` does not inherit it) and owns it. Throws Error (Runtime).
  static std::unique_ptr<HitWriter> open(OutputFormat format, bool count_only, const std::string& path,
                                         std::vector<ProbeLabel> labels);

  HitWriter(const HitWriter&) = delete;
  HitWriter& operator=(const HitWriter&) = delete;
  // Writes what is still buffered (best effort) and closes an owned file.
  virtual ~HitWriter();

  // All three return false once writing has failed; the failure is sticky and
  // later calls do nothing. The tracer then stops tracing: error() == EPIPE is
  // a reader that went away (`uptrace ... | head`), anything else is worth
  // reporting with error_message().
  //
  // One hit (buffered; nothing at all in count mode).
  [[nodiscard]] bool hit(const Hit& hit);
  // At exit. Count mode (no line per hit): with -c (and without
  // `aggregates`), one line per label, in label order, from hits_per_probe
  // (indexed like the labels; missing entries count 0), with the durations
  // of a return probe's calls from `aggregates`; with --by, one line per
  // group of a label instead, in key order; then with --hist, one histogram
  // per label (or group). A probe placed at several addresses (a
  // SRCFILE:LINE with inlined copies) has one label, so it is one line.
  // Then flushes. A second call does nothing.
  [[nodiscard]] bool finish(std::span<const uint64_t> hits_per_probe, const Aggregator* aggregates = nullptr);
  // Writes everything buffered now.
  [[nodiscard]] bool flush();
  // The labels grew (probes resolved in another process, or in a library
  // loaded later): hits and counts name them from now on.
  void set_labels(std::vector<ProbeLabel> labels) { labels_ = std::move(labels); }
  // `hits` hits of `pid` were lost, for the reason `why`: JSON output gets
  // an object saying so ({"lost":N,"pid":P,"reason":"..."}), in count mode
  // too; text output has only the warning on stderr (the caller's).
  [[nodiscard]] bool lost(int pid, uint64_t hits, std::string_view why);

  bool ok() const { return error_ == 0; }
  int error() const { return error_; }  // the errno of the failed write, 0 while fine
  // "cannot write output: Broken pipe" / "cannot write output to 'x.log': No space left on device"
  std::string error_message() const;

 protected:
  using Buffer = fmt::memory_buffer;

  HitWriter(bool count_only, int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels);

  // One line of counts: a probe's, or with --by one group's (`key`, the
  // value of the --by NAME `key_name`); `durations` when its hits had any.
  struct CountLine {
    std::string_view probe;
    std::string_view key_name;
    const FetchedValue* key = nullptr;
    uint64_t hits = 0;
    const Durations* durations = nullptr;
  };
  // One histogram of --hist NAME (`value_name`), of a probe or a group.
  struct HistBlock {
    std::string_view probe;
    std::string_view key_name;
    const FetchedValue* key = nullptr;
    std::string_view value_name;
    const Log2Histogram& hist;
  };

  virtual void format_hit(Buffer& out, const Hit& hit, const ProbeLabel& label) = 0;
  virtual void format_count(Buffer& out, const CountLine& line) = 0;
  virtual void format_hist(Buffer& out, const HistBlock& block) = 0;
  virtual void format_lost(Buffer& out, int pid, uint64_t hits, std::string_view why) = 0;
  // What a format has before its first hit and after its last (a JSON
  // array's brackets; an aggregate's lines): format_start once, before
  // anything else is written; format_end once, by finish().
  virtual void format_start(Buffer&) {}
  virtual void format_end(Buffer&) {}

 private:
  bool write_buffer();
  void start();

  bool count_only_;
  int fd_;
  bool owns_fd_;
  std::string path_;  // empty for an fd we were given
  std::vector<ProbeLabel> labels_;
  Buffer buffer_;
  int error_ = 0;
  bool started_ = false;
  bool finished_ = false;
};

// A duration as SPEC.md "Latency and aggregation" prints it: in ns, us, ms
// or s, whichever keeps the integer part below 1000 (s above that), with
// exactly 3 decimals: "523.000ns", "1.234us", "2.500s".
std::string format_duration(uint64_t ns);

// Installs a do-nothing SIGPIPE handler unless SIGPIPE is already handled or
// ignored, so a write to a closed pipe fails with EPIPE instead of killing
// the tracer with probes still armed. A handler and not SIG_IGN, because exec
// resets handlers but keeps SIG_IGN, and a COMMAND started with `--` must get
// the default SIGPIPE behaviour.
void survive_closed_output();

}  // namespace uptrace::cmd
