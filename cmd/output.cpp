#include "cmd/output.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <iterator>
#include <utility>

#include "cmd/output_detail.h"
#include "common/error.h"

namespace uptrace::cmd {

namespace {

// Big enough that a busy trace costs one write(2) per many hits, small enough
// that a crash loses little.
constexpr size_t kFlushThreshold = 64 * 1024;

constexpr char kHexDigits[] = "0123456789abcdef";

void append(fmt::memory_buffer& out, std::string_view s) { out.append(s.data(), s.data() + s.size()); }

void append_char(fmt::memory_buffer& out, char c) { out.push_back(c); }

template <class Int>
void append_int(fmt::memory_buffer& out, Int value) {
  fmt::format_int f(value);
  out.append(f.data(), f.data() + f.size());
}

void append_hex(fmt::memory_buffer& out, uint64_t value) {
  char digits[18];
  char* end = digits + sizeof digits;
  char* p = end;
  do {
    *--p = kHexDigits[value & 0xf];
    value >>= 4;
  } while (value != 0);
  *--p = 'x';
  *--p = '0';
  out.append(p, end);
}

// The value bits cut to the type's width and extended per its signedness:
// the evaluator already does this, but a value printed wrongly is worse
// than the few instructions it costs to be sure.
uint64_t value_bits(const FetchedValue& v) {
  unsigned bits = fetch_type_bytes(v.type) * 8;
  if (bits == 0 || bits >= 64) return v.bits;
  uint64_t mask = (uint64_t{1} << bits) - 1;
  uint64_t u = v.bits & mask;
  if (fetch_type_is_signed(v.type) && (u >> (bits - 1)) & 1) u |= ~mask;
  return u;
}

void append_integer(fmt::memory_buffer& out, const FetchedValue& v) {
  uint64_t u = value_bits(v);
  if (fetch_type_is_hex(v.type)) {
    append_hex(out, u);
  } else if (fetch_type_is_signed(v.type)) {
    append_int(out, static_cast<int64_t>(u));
  } else {
    append_int(out, u);
  }
}

// JSON readers that keep numbers as doubles (JavaScript, jq, Python's json
// with floats) round integers beyond 2^53. Up to Number.MAX_SAFE_INTEGER an
// integer is a JSON number; past it, the same decimal digits in a string,
// as protobuf's JSON mapping writes 64-bit integers, so nothing is lost.
constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;

template <class Int>
void append_json_int(fmt::memory_buffer& out, Int value, uint64_t magnitude) {
  const bool quoted = magnitude > kMaxSafeInteger;
  if (quoted) append_char(out, '"');
  append_int(out, value);
  if (quoted) append_char(out, '"');
}

void append_json_unsigned(fmt::memory_buffer& out, uint64_t value) { append_json_int(out, value, value); }

void append_json_signed(fmt::memory_buffer& out, int64_t value) {
  append_json_int(out, value, value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value));
}

// A u*/s* value (or an enumerator without a name) in JSON.
void append_json_integer(fmt::memory_buffer& out, const FetchedValue& v) {
  uint64_t u = value_bits(v);
  if (fetch_type_is_signed(v.type))
    append_json_signed(out, static_cast<int64_t>(u));
  else
    append_json_unsigned(out, u);
}

void append_byte_escape(fmt::memory_buffer& out, std::string_view prefix, unsigned char c) {
  append(out, prefix);
  append_char(out, kHexDigits[c >> 4]);
  append_char(out, kHexDigits[c & 0xf]);
}

// C escapes; every byte outside printable ASCII as \xNN with exactly two
// digits, so the line stays one line of plain ASCII whatever the target had.
void append_c_string(fmt::memory_buffer& out, std::string_view s) {
  append_char(out, '"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') continue;
    append(out, s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '\n': append(out, "\\n"); break;
      case '\t': append(out, "\\t"); break;
      case '\r': append(out, "\\r"); break;
      case '"': append(out, "\\\""); break;
      case '\\': append(out, "\\\\"); break;
      default: append_byte_escape(out, "\\x", c); break;
    }
  }
  append(out, s.substr(run));
  append_char(out, '"');
}

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlongs,
// no surrogates, nothing above U+10FFFF), or 0.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf;  // bounds of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
  }
  return len;
}

// A JSON string. Target memory is arbitrary bytes and the line must stay
// valid JSON: a byte that is not part of well-formed UTF-8 becomes \u00XX,
// the code point of the same number (as Latin-1 would read it).
void append_json_string(fmt::memory_buffer& out, std::string_view s) {
  append_char(out, '"');
  size_t run = 0;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (size_t len = utf8_sequence(s, i); len != 0) {
        i += len;
        continue;
      }
    }
    append(out, s.substr(run, i - run));
    switch (c) {
      case '\n': append(out, "\\n"); break;
      case '\t': append(out, "\\t"); break;
      case '\r': append(out, "\\r"); break;
      case '\b': append(out, "\\b"); break;
      case '\f': append(out, "\\f"); break;
      case '"': append(out, "\\\""); break;
      case '\\': append(out, "\\\\"); break;
      default: append_byte_escape(out, "\\u00", c); break;
    }
    ++i;
    run = i;
  }
  append(out, s.substr(run));
  append_char(out, '"');
}

// ns, us, ms or s with 3 decimals. The units are powers of 1000 apart, so
// an integer number of nanoseconds is exact in 3 decimals of the next unit
// and needs no rounding.
void append_duration(fmt::memory_buffer& out, uint64_t ns) {
  static constexpr std::string_view kUnits[] = {"ns", "us", "ms", "s"};
  uint64_t whole = ns, frac = 0;
  size_t unit = 0;
  for (uint64_t scale = 1; unit + 1 < std::size(kUnits) && ns / scale >= 1000; ++unit) {
    scale *= 1000;
    whole = ns / scale;
    frac = ns % scale / (scale / 1000);
  }
  append_int(out, whole);
  append_char(out, '.');
  const char digits[3] = {static_cast<char>('0' + frac / 100), static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
  out.append(digits, digits + 3);
  append(out, kUnits[unit]);
}

// A value in a text line: as its type and DWARF say, "(fault)" when unreadable.
void append_text_value(fmt::memory_buffer& out, const FetchedValue& v) {
  if (v.fault) {
    append(out, "(fault)");
  } else if (v.optimized_out) {
    append(out, "(optimized out)");
  } else if (v.type == FetchType::String) {
    append_c_string(out, v.text);
  } else if (v.show == ValueShow::Bool) {
    append(out, value_bits(v) != 0 ? "true" : "false");
  } else if (v.show == ValueShow::Enum && !v.text.empty()) {
    append(out, v.text);
  } else {
    append_integer(out, v);
  }
}

// A value in JSON: a number, a "0x..." string for x* types, a string,
// true/false, an enumerator's name, or null when unreadable.
void append_json_value(fmt::memory_buffer& out, const FetchedValue& v) {
  if (v.fault || v.optimized_out) {
    append(out, "null");
  } else if (v.type == FetchType::String) {
    append_json_string(out, v.text);
  } else if (v.show == ValueShow::Bool) {
    append(out, value_bits(v) != 0 ? "true" : "false");
  } else if (v.show == ValueShow::Enum && !v.text.empty()) {
    append_json_string(out, v.text);
  } else if (fetch_type_is_hex(v.type)) {
    append_char(out, '"');
    append_integer(out, v);
    append_char(out, '"');
  } else {
    append_json_integer(out, v);
  }
}

std::string_view arg_name(const ProbeLabel& label, size_t i) {
  return i < label.arg_names.size() ? std::string_view(label.arg_names[i]) : std::string_view("?");
}

// {"len":5,"buf":"hi"}: SPEC.md's JSON values, by argument name.
void append_json_args(fmt::memory_buffer& out, const Hit& hit, const ProbeLabel& label) {
  append_char(out, '{');
  for (size_t i = 0; i < hit.values.size(); ++i) {
    if (i != 0) append_char(out, ',');
    append_json_string(out, arg_name(label, i));
    append_char(out, ':');
    append_json_value(out, hit.values[i]);
  }
  append_char(out, '}');
}

class TextWriter final : public HitWriter {
 public:
  TextWriter(bool count_only, int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels)
      : HitWriter(count_only, fd, owns_fd, std::move(path), std::move(labels)) {}

 protected:
  void format_hit(Buffer& out, const Hit& hit, const ProbeLabel& label) override {
    append_int(out, hit.time_ns / 1'000'000'000);
    append_char(out, '.');
    // Always six digits: format_int has no padding, so pad by hand.
    uint64_t micros = hit.time_ns % 1'000'000'000 / 1'000;
    char frac[6];
    for (int k = 5; k >= 0; --k) {
      frac[k] = static_cast<char>('0' + micros % 10);
      micros /= 10;
    }
    out.append(frac, frac + 6);
    append_char(out, ' ');
    append_int(out, hit.pid);
    append_char(out, '/');
    append_int(out, hit.tid);
    append_char(out, ' ');
    append(out, label.name);
    for (size_t i = 0; i < hit.values.size(); ++i) {
      append_char(out, ' ');
      append(out, arg_name(label, i));
      append_char(out, '=');
      append_text_value(out, hit.values[i]);
    }
    if (const std::optional<uint64_t> duration = hit.duration_ns()) {
      append(out, " duration=");
      append_duration(out, *duration);
    }
    append_char(out, '\n');
    for (const std::string& frame : hit.stack) {
      append(out, "    ");
      append(out, frame);
      append_char(out, '\n');
    }
  }

  void format_count(Buffer& out, const CountLine& c) override {
    append(out, c.probe);
    if (c.key) {
      append_char(out, ' ');
      append(out, c.key_name);
      append_char(out, '=');
      append_text_value(out, *c.key);
    }
    append_char(out, ' ');
    append_int(out, c.hits);
    if (c.durations && c.durations->calls) {
      append(out, " total=");
      append_duration(out, c.durations->total);
      append(out, " min=");
      append_duration(out, c.durations->min);
      append(out, " avg=");
      append_duration(out, c.durations->avg());
      append(out, " max=");
      append_duration(out, c.durations->max);
    }
    append_char(out, '\n');
  }

  // bpftrace's layout: a header line, one line per bucket from the first to
  // the last with a count (a 16-wide label, an 8-wide count, a bar of up to
  // 52 '@' scaled to the largest count), then an empty line.
  void format_hist(Buffer& out, const HistBlock& h) override {
    append(out, h.probe);
    if (h.key) {
      append_char(out, ' ');
      append(out, h.key_name);
      append_char(out, '=');
      append_text_value(out, *h.key);
    }
    append_char(out, ' ');
    append(out, h.value_name);
    append(out, ":\n");
    if (!h.hist.empty()) {
      constexpr size_t kBarWidth = 52;
      const uint64_t most = h.hist.max_count();
      for (size_t b = h.hist.first(); b <= h.hist.last(); ++b) {
        const uint64_t n = h.hist.count(b);
        const auto bar = static_cast<size_t>(static_cast<double>(n) / static_cast<double>(most) * kBarWidth);
        fmt::format_to(std::back_inserter(out), "{:<16}{:>8} |{:<52}|\n", Log2Histogram::label(b), n,
                       std::string(bar, '@'));
      }
    }
    append_char(out, '\n');
  }

  // A text stream is for people, who read the warning on stderr; a line
  // here would break scripts that parse hit lines.
  void format_lost(Buffer&, int, uint64_t, std::string_view) override {}
};

// ,"key":{"NAME":VALUE} for a --by group.
void append_key(fmt::memory_buffer& out, std::string_view name, const FetchedValue* key) {
  if (!key) return;
  append(out, ",\"key\":{");
  append_json_string(out, name);
  append_char(out, ':');
  append_json_value(out, *key);
  append_char(out, '}');
}

class JsonWriter final : public HitWriter {
 public:
  JsonWriter(bool count_only, int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels)
      : HitWriter(count_only, fd, owns_fd, std::move(path), std::move(labels)) {}

 protected:
  void format_hit(Buffer& out, const Hit& hit, const ProbeLabel& label) override {
    append(out, "{\"time_ns\":");
    append_json_unsigned(out, hit.time_ns);
    append(out, ",\"pid\":");
    append_int(out, hit.pid);
    append(out, ",\"tid\":");
    append_int(out, hit.tid);
    append(out, ",\"probe\":");
    append_json_string(out, label.name);
    append(out, ",\"addr\":\"");
    append_hex(out, hit.addr.value);
    append(out, "\",\"args\":");
    append_json_args(out, hit, label);
    // null alone cannot tell "unreadable" from "not there at this pc"; the
    // names of the latter are listed, so a script can tell them apart.
    bool any_optimized_out = false;
    for (size_t i = 0; i < hit.values.size(); ++i) {
      if (!hit.values[i].optimized_out || hit.values[i].fault) continue;
      append(out, any_optimized_out ? "," : ",\"optimized_out\":[");
      append_json_string(out, arg_name(label, i));
      any_optimized_out = true;
    }
    if (any_optimized_out) append_char(out, ']');
    if (const std::optional<uint64_t> duration = hit.duration_ns()) {
      append(out, ",\"duration_ns\":");
      append_json_unsigned(out, *duration);
    }
    if (!hit.stack.empty()) {
      append(out, ",\"stack\":[");
      for (size_t i = 0; i < hit.stack.size(); ++i) {
        if (i != 0) append_char(out, ',');
        append_json_string(out, hit.stack[i]);
      }
      append_char(out, ']');
    }
    append(out, "}\n");
  }

  void format_count(Buffer& out, const CountLine& c) override {
    append(out, "{\"probe\":");
    append_json_string(out, c.probe);
    append_key(out, c.key_name, c.key);
    append(out, ",\"hits\":");
    append_json_unsigned(out, c.hits);
    if (c.durations && c.durations->calls) {
      append(out, ",\"duration_ns\":{\"total\":");
      append_json_unsigned(out, c.durations->total);
      append(out, ",\"min\":");
      append_json_unsigned(out, c.durations->min);
      append(out, ",\"avg\":");
      append_json_unsigned(out, c.durations->avg());
      append(out, ",\"max\":");
      append_json_unsigned(out, c.durations->max);
      append_char(out, '}');
    }
    append(out, "}\n");
  }

  // The buckets printed in text, as [lo, hi) numbers; the negative bucket
  // has no lo (null).
  void format_hist(Buffer& out, const HistBlock& h) override {
    append(out, "{\"probe\":");
    append_json_string(out, h.probe);
    append_key(out, h.key_name, h.key);
    append(out, ",\"hist\":[");
    if (!h.hist.empty()) {
      for (size_t b = h.hist.first(); b <= h.hist.last(); ++b) {
        if (b != h.hist.first()) append_char(out, ',');
        append(out, "{\"lo\":");
        if (std::optional<uint64_t> lo = Log2Histogram::lo(b)) append_int(out, *lo);
        else append(out, "null");
        append(out, ",\"hi\":");
        append(out, Log2Histogram::hi(b));
        append(out, ",\"count\":");
        append_int(out, h.hist.count(b));
        append_char(out, '}');
      }
    }
    append(out, "]}\n");
  }

  void format_lost(Buffer& out, int pid, uint64_t hits, std::string_view why) override {
    append(out, "{\"lost\":");
    append_int(out, hits);
    append(out, ",\"pid\":");
    append_int(out, pid);
    append(out, ",\"reason\":");
    append_json_string(out, why);
    append(out, "}\n");
  }
};

void ignore_signal(int) {}

std::unique_ptr<HitWriter> make_writer(OutputFormat format, bool count_only, int fd, bool owns_fd,
                                       std::string path, std::vector<ProbeLabel> labels) {
  survive_closed_output();
  switch (format) {
    case OutputFormat::Json:
      return std::make_unique<JsonWriter>(count_only, fd, owns_fd, std::move(path), std::move(labels));
    case OutputFormat::Chrome: return detail::make_chrome_writer(fd, owns_fd, std::move(path), std::move(labels));
    case OutputFormat::Folded: return detail::make_folded_writer(fd, owns_fd, std::move(path), std::move(labels));
    case OutputFormat::Text: break;
  }
  return std::make_unique<TextWriter>(count_only, fd, owns_fd, std::move(path), std::move(labels));
}

}  // namespace

namespace detail {

void json_string(fmt::memory_buffer& out, std::string_view s) { append_json_string(out, s); }

void json_args(fmt::memory_buffer& out, const Hit& hit, const ProbeLabel& label) { append_json_args(out, hit, label); }

}  // namespace detail

std::string format_duration(uint64_t ns) {
  fmt::memory_buffer out;
  append_duration(out, ns);
  return fmt::to_string(out);
}

std::optional<OutputFormat> parse_output_format(std::string_view text) {
  if (text == "text") return OutputFormat::Text;
  if (text == "json") return OutputFormat::Json;
  if (text == "chrome") return OutputFormat::Chrome;
  if (text == "folded") return OutputFormat::Folded;
  return std::nullopt;
}

void survive_closed_output() {
  struct sigaction current {};
  if (sigaction(SIGPIPE, nullptr, &current) != 0) return;
  if (current.sa_handler != SIG_DFL || (current.sa_flags & SA_SIGINFO)) return;
  struct sigaction action {};
  action.sa_handler = ignore_signal;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGPIPE, &action, nullptr);
}

std::unique_ptr<HitWriter> HitWriter::create(OutputFormat format, bool count_only, int fd,
                                             std::vector<ProbeLabel> labels) {
  return make_writer(format, count_only, fd, false, {}, std::move(labels));
}

std::unique_ptr<HitWriter> HitWriter::open(OutputFormat format, bool count_only, const std::string& path,
                                           std::vector<ProbeLabel> labels) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) throw_runtime("cannot open output file '{}': {}", path, errno_text(errno));
  return make_writer(format, count_only, fd, true, path, std::move(labels));
}

HitWriter::HitWriter(bool count_only, int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels)
    : count_only_(count_only), fd_(fd), owns_fd_(owns_fd), path_(std::move(path)), labels_(std::move(labels)) {}

HitWriter::~HitWriter() {
  if (error_ == 0) (void)write_buffer();
  if (owns_fd_) ::close(fd_);
}

void HitWriter::start() {
  if (started_) return;
  started_ = true;
  format_start(buffer_);
}

bool HitWriter::hit(const Hit& hit) {
  if (error_ != 0) return false;
  if (count_only_) return true;
  start();
  if (hit.probe < labels_.size()) {
    format_hit(buffer_, hit, labels_[hit.probe]);
  } else {
    // core/ and the labels disagree: print the hit anyway rather than stop
    // tracing (and with it, restoring the target) over a report.
    format_hit(buffer_, hit, ProbeLabel{fmt::format("#{}", hit.probe), {}});
  }
  if (buffer_.size() >= kFlushThreshold) return write_buffer();
  return true;
}

bool HitWriter::finish(std::span<const uint64_t> hits_per_probe, const Aggregator* aggregates) {
  if (error_ != 0) return false;
  if (finished_) return true;
  finished_ = true;
  start();
  if (!count_only_) {
    format_end(buffer_);
    return write_buffer();
  }
  const AggregateOptions none{true, std::nullopt, std::nullopt};
  const AggregateOptions& o = aggregates ? aggregates->options() : none;
  auto groups = [&](size_t i) -> const std::map<GroupKey, Group>* {
    return aggregates && i < aggregates->probes() ? &aggregates->groups(i) : nullptr;
  };
  if (o.count) {
    for (size_t i = 0; i < labels_.size(); ++i) {
      const std::map<GroupKey, Group>* g = groups(i);
      if (o.by && g) {
        for (const auto& [key, group] : *g)
          format_count(buffer_, {labels_[i].name, *o.by, &key.value, group.hits, &group.durations});
        continue;
      }
      // Counted by core/, which sees every kept hit; the durations of a
      // return probe's hits are here.
      const uint64_t hits = i < hits_per_probe.size() ? hits_per_probe[i] : 0;
      const Durations* durations = g && !g->empty() ? &g->begin()->second.durations : nullptr;
      format_count(buffer_, {labels_[i].name, {}, nullptr, hits, durations});
    }
  }
  if (o.hist) {
    const Log2Histogram no_hits;
    for (size_t i = 0; i < labels_.size(); ++i) {
      const std::map<GroupKey, Group>* g = groups(i);
      if (o.by && g) {
        for (const auto& [key, group] : *g)
          format_hist(buffer_, {labels_[i].name, *o.by, &key.value, *o.hist, group.hist});
        continue;
      }
      format_hist(buffer_, {labels_[i].name, {}, nullptr, *o.hist, g && !g->empty() ? g->begin()->second.hist : no_hits});
    }
  }
  format_end(buffer_);
  return write_buffer();
}

bool HitWriter::lost(int pid, uint64_t hits, std::string_view why) {
  if (error_ != 0) return false;
  start();
  format_lost(buffer_, pid, hits, why);
  return write_buffer();
}

bool HitWriter::flush() {
  if (error_ != 0) return false;
  return write_buffer();
}

bool HitWriter::write_buffer() {
  const char* p = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n > 0) {
      p += n;
      left -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Someone gave us a non-blocking fd (a shared terminal or pipe): wait
      // instead of dropping hits. An error shows up at the next write.
      pollfd pfd{fd_, POLLOUT, 0};
      (void)::poll(&pfd, 1, -1);
      continue;
    }
    error_ = n < 0 ? errno : EIO;
    buffer_.clear();
    return false;
  }
  buffer_.clear();
  // Give back the memory of a rare burst, keep the usual working size.
  if (buffer_.capacity() > 4 * kFlushThreshold) buffer_ = Buffer();
  return true;
}

std::string HitWriter::error_message() const {
  if (path_.empty()) return fmt::format("cannot write output: {}", errno_text(error_));
  return fmt::format("cannot write output to '{}': {}", path_, errno_text(error_));
}

}  // namespace uptrace::cmd
