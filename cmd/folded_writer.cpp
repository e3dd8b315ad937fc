// --format folded: the "folded stacks" that flamegraph.pl, inferno and
// speedscope read. Every hit's --stack, outermost frame first, ending in the
// probe, is one key; at exit each key is one line with its number of hits,
// "_start;main;parse;parse+0x4 42", sorted so two runs compare with diff.
// A frame is its function's name alone: the offset within it would split one
// function into as many boxes as it has call sites.
#include <map>
#include <string>

#include "cmd/output_detail.h"

namespace uptrace::cmd::detail {

namespace {

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// ';' separates frames and a line ends the record: neither may be in a name.
void append_sanitized(std::string& out, std::string_view s) {
  for (char c : s) out.push_back(c == ';' ? ':' : (c == '\n' || c == '\r') ? ' ' : c);
}

}  // namespace

// Frames as core/backtrace.h spells them: "func+0x4 (/path/module)",
// "0x7f12 (/path/module)" without a symbol, "0x7f12" outside any module.
// Without a symbol, the module's file name in brackets, as perf script does.
std::string folded_frame(std::string_view frame) {
  std::string out;
  const size_t paren = frame.rfind(" (");
  std::string_view where = paren == std::string_view::npos ? frame : frame.substr(0, paren);
  if (where.starts_with("0x")) {
    if (paren == std::string_view::npos || !frame.ends_with(')')) return "[unknown]";
    std::string_view module = frame.substr(paren + 2, frame.size() - paren - 3);
    out += '[';
    append_sanitized(out, basename_of(module));
    out += ']';
    return out;
  }
  // The last "+0x": a name may hold a '+' itself (operator+).
  const size_t plus = where.rfind("+0x");
  append_sanitized(out, plus == std::string_view::npos ? where : where.substr(0, plus));
  return out;
}

namespace {

class FoldedWriter final : public HitWriter {
 public:
  FoldedWriter(int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels)
      : HitWriter(false, fd, owns_fd, std::move(path), std::move(labels)) {}

 protected:
  void format_hit(Buffer&, const Hit& hit, const ProbeLabel& label) override {
    std::string key;
    for (auto it = hit.stack.rbegin(); it != hit.stack.rend(); ++it) {
      key += folded_frame(*it);
      key += ';';
    }
    append_sanitized(key, label.name);
    ++stacks_[key];
  }

  // options.cpp refuses -c, --hist and --by with this format.
  void format_count(Buffer&, const CountLine&) override {}
  void format_hist(Buffer&, const HistBlock&) override {}
  // Said on stderr; a line here would be read as a stack.
  void format_lost(Buffer&, int, uint64_t, std::string_view) override {}

  void format_end(Buffer& out) override {
    for (const auto& [key, count] : stacks_) fmt::format_to(std::back_inserter(out), "{} {}\n", key, count);
    stacks_.clear();
  }

 private:
  std::map<std::string, uint64_t> stacks_;
};

}  // namespace

std::unique_ptr<HitWriter> make_folded_writer(int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels) {
  return std::make_unique<FoldedWriter>(fd, owns_fd, std::move(path), std::move(labels));
}

}  // namespace uptrace::cmd::detail
