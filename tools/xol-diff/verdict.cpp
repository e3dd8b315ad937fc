#include "verdict.h"

#include <algorithm>

namespace xol_diff {
namespace {

constexpr char kField = '\x1f';
constexpr char kItem = '\x1e';

std::string clean(std::string s) {
  std::replace_if(s.begin(), s.end(), [](char c) { return c == '\n' || c == kField || c == kItem; }, ' ');
  return s;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += kItem;
    out += clean(items[i]);
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    out.emplace_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

}  // namespace

std::string Verdict::serialize() const {
  std::string out;
  auto field = [&](const std::string& s) {
    out += s;
    out += kField;
  };
  field(std::to_string(static_cast<int>(status)));
  field(std::to_string(addr));
  field(clean(where));
  field(clean(bytes));
  field(clean(text));
  field(clean(cls));
  field(clean(mode));
  field(clean(reason));
  field(faulted ? "1" : "0");
  field(std::to_string(out_of_line_runs));
  field(join(mismatches));
  field(join(modes));
  out += join(notes);
  out += '\n';
  return out;
}

std::optional<Verdict> Verdict::parse(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::vector<std::string> f;
  size_t start = 0;
  for (int i = 0; i < 12; ++i) {
    const size_t end = line.find(kField, start);
    if (end == std::string_view::npos) return std::nullopt;
    f.emplace_back(line.substr(start, end - start));
    start = end + 1;
  }
  Verdict v;
  v.status = static_cast<Status>(std::stoi(f[0]));
  v.addr = std::stoull(f[1]);
  v.where = f[2];
  v.bytes = f[3];
  v.text = f[4];
  v.cls = f[5];
  v.mode = f[6];
  v.reason = f[7];
  v.faulted = f[8] == "1";
  v.out_of_line_runs = static_cast<unsigned>(std::stoul(f[9]));
  v.mismatches = split(f[10], kItem);
  v.modes = split(f[11], kItem);
  v.notes = split(line.substr(start), kItem);
  return v;
}

}  // namespace xol_diff
