// --format chrome: the Trace Event Format that Perfetto and chrome://tracing
// open. Its JSON Array form, "[" then one event per line, because a viewer
// loads that form even without the closing "]" (a trace cut short by a crash
// stays readable). A FUNC%return hit becomes one complete event ("ph":"X")
// from its entry (Hit::entry_time_ns) to the return; every other hit is an
// instant event on its thread. Each process and thread gets its name once,
// as metadata events, the first time it has a hit.
#include <fcntl.h>
#include <unistd.h>

#include <set>
#include <string>
#include <utility>

#include "cmd/output_detail.h"

namespace uptrace::cmd::detail {

namespace {

void append(fmt::memory_buffer& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

void append_uint(fmt::memory_buffer& out, uint64_t value) {
  fmt::format_int f(value);
  out.append(f.data(), f.data() + f.size());
}

// Timestamps are in microseconds; three decimals keep the nanoseconds.
void append_micros(fmt::memory_buffer& out, uint64_t ns) {
  append_uint(out, ns / 1000);
  const uint64_t frac = ns % 1000;
  const char digits[] = {'.', static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                         static_cast<char>('0' + frac % 10)};
  out.append(digits, digits + sizeof digits);
}

// The kernel's name of a process or thread (comm), without its newline;
// empty when it is gone.
std::string comm_of(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return {};
  std::string name(buf, static_cast<size_t>(n));
  while (!name.empty() && name.back() == '\n') name.pop_back();
  return name;
}

constexpr std::string_view kReturnSuffix = "%return";

class ChromeWriter final : public HitWriter {
 public:
  ChromeWriter(int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels)
      : HitWriter(false, fd, owns_fd, std::move(path), std::move(labels)) {}

 protected:
  void format_start(Buffer& out) override { append(out, "["); }

  void format_end(Buffer& out) override { append(out, "\n]\n"); }

  void format_hit(Buffer& out, const Hit& hit, const ProbeLabel& label) override {
    name_threads(out, hit.pid, hit.tid);
    std::string_view name = label.name;
    const bool complete = hit.entry_time_ns.has_value() && name.ends_with(kReturnSuffix);
    begin_event(out);
    append(out, "{\"name\":");
    // The complete event is the call: it is named after the function.
    json_string(out, complete ? name.substr(0, name.size() - kReturnSuffix.size()) : name);
    append(out, ",\"cat\":\"uptrace\",\"ph\":");
    if (complete) {
      const uint64_t entry = *hit.entry_time_ns;
      append(out, "\"X\",\"ts\":");
      append_micros(out, entry);
      append(out, ",\"dur\":");
      append_micros(out, hit.time_ns > entry ? hit.time_ns - entry : 0);
    } else {
      append(out, "\"i\",\"s\":\"t\",\"ts\":");
      append_micros(out, hit.time_ns);
    }
    append(out, ",\"pid\":");
    append_uint(out, static_cast<uint64_t>(hit.pid));
    append(out, ",\"tid\":");
    append_uint(out, static_cast<uint64_t>(hit.tid));
    append(out, ",\"args\":");
    json_args(out, hit, label);
    if (!hit.stack.empty()) {
      // Inside "args", where viewers show it with the values; a value of
      // the same name keeps the key.
      bool taken = false;
      for (const std::string& n : label.arg_names) taken |= n == "stack";
      if (!taken) {
        out.resize(out.size() - 1);  // the args object's '}'
        append(out, hit.values.empty() ? "\"stack\":[" : ",\"stack\":[");
        for (size_t i = 0; i < hit.stack.size(); ++i) {
          if (i != 0) append(out, ",");
          json_string(out, hit.stack[i]);
        }
        append(out, "]}");
      }
    }
    append(out, "}");
    last_ns_ = hit.time_ns;
  }

  // options.cpp refuses -c, --hist and --by with this format.
  void format_count(Buffer&, const CountLine&) override {}
  void format_hist(Buffer&, const HistBlock&) override {}

  // A global instant event, so the loss shows on the timeline where it was
  // found.
  void format_lost(Buffer& out, int pid, uint64_t hits, std::string_view why) override {
    begin_event(out);
    append(out, "{\"name\":");
    json_string(out, fmt::format("uptrace: {} hits lost", hits));
    append(out, ",\"cat\":\"uptrace\",\"ph\":\"i\",\"s\":\"g\",\"ts\":");
    append_micros(out, last_ns_);
    append(out, ",\"pid\":");
    append_uint(out, static_cast<uint64_t>(pid));
    append(out, ",\"tid\":");
    append_uint(out, static_cast<uint64_t>(pid));
    append(out, ",\"args\":{\"lost\":");
    append_uint(out, hits);
    append(out, ",\"reason\":");
    json_string(out, why);
    append(out, "}}");
  }

 private:
  void begin_event(Buffer& out) {
    append(out, first_ ? "\n" : ",\n");
    first_ = false;
  }

  void metadata(Buffer& out, std::string_view what, int pid, int tid, const std::string& name) {
    begin_event(out);
    append(out, "{\"name\":\"");
    append(out, what);
    append(out, "\",\"ph\":\"M\",\"pid\":");
    append_uint(out, static_cast<uint64_t>(pid));
    append(out, ",\"tid\":");
    append_uint(out, static_cast<uint64_t>(tid));
    append(out, ",\"args\":{\"name\":");
    json_string(out, name);
    append(out, "}}");
  }

  // Read at the first hit, while the thread most likely still exists.
  void name_threads(Buffer& out, int pid, int tid) {
    if (named_processes_.insert(pid).second) {
      std::string comm = comm_of(fmt::format("/proc/{}/comm", pid));
      metadata(out, "process_name", pid, pid, comm.empty() ? fmt::format("pid {}", pid) : comm);
    }
    if (named_threads_.insert({pid, tid}).second) {
      std::string comm = comm_of(fmt::format("/proc/{}/task/{}/comm", pid, tid));
      metadata(out, "thread_name", pid, tid, comm.empty() ? fmt::format("tid {}", tid) : comm);
    }
  }

  bool first_ = true;
  uint64_t last_ns_ = 0;
  std::set<int> named_processes_;
  std::set<std::pair<int, int>> named_threads_;
};

}  // namespace

std::unique_ptr<HitWriter> make_chrome_writer(int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels) {
  return std::make_unique<ChromeWriter>(fd, owns_fd, std::move(path), std::move(labels));
}

}  // namespace uptrace::cmd::detail
