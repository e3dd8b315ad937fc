#include "common/variable_path.h"

#include <charconv>

namespace uptrace {

namespace {

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }

// An identifier at `pos`; empty when there is none.
std::string_view take_ident(std::string_view s, size_t& pos) {
  size_t start = pos;
  if (pos >= s.size() || !ident_start(s[pos])) return {};
  while (pos < s.size() && ident_char(s[pos])) ++pos;
  return s.substr(start, pos - start);
}

std::optional<uint64_t> parse_index(std::string_view s) {
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<VariablePath> parse_variable_path(std::string_view text) {
  VariablePath path;
  size_t pos = 0;
  while (pos < text.size() && text[pos] == '*') {
    ++path.derefs;
    ++pos;
  }
  size_t base_start = pos;
  if (take_ident(text, pos).empty()) return std::nullopt;
  while (text.substr(pos).starts_with("::")) {
    pos += 2;
    if (take_ident(text, pos).empty()) return std::nullopt;
  }
  path.base = std::string(text.substr(base_start, pos - base_start));
  while (pos < text.size()) {
    std::string_view rest = text.substr(pos);
    PathStep step;
    if (rest.starts_with("->") || rest.starts_with(".")) {
      step.kind = rest[0] == '.' ? PathStep::Kind::Member : PathStep::Kind::Arrow;
      pos += rest[0] == '.' ? 1 : 2;
      std::string_view member = take_ident(text, pos);
      if (member.empty()) return std::nullopt;
      step.member = std::string(member);
    } else if (rest.starts_with("[")) {
      size_t close = rest.find(']');
      if (close == std::string_view::npos) return std::nullopt;
      auto index = parse_index(rest.substr(1, close - 1));
      if (!index) return std::nullopt;
      step.kind = PathStep::Kind::Index;
      step.index = *index;
      pos += close + 1;
    } else {
      return std::nullopt;
    }
    path.steps.push_back(std::move(step));
  }
  return path;
}

}  // namespace uptrace
