#include "cmd/condition_parser.h"

#include <fmt/format.h>

#include <limits>
#include <optional>
#include <string>

#include "cmd/number.h"
#include "cmd/probe_spec.h"
#include "common/error.h"

namespace uptrace::cmd {

namespace {

// As for +OFF(...) nesting: the word can be 128 KiB, and every consumer of
// the tree recurses over it. Chains of && and || are flat and do not count.
constexpr unsigned kMaxDepth = 64;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_identifier(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0])) return false;
  for (char c : s)
    if (!is_ident_char(c)) return false;
  return true;
}

// The expression part of an operand: without a :TYPE after its last single ':'.
std::string_view without_type(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || (colon > 0 && text[colon - 1] == ':')) return text;
  return text.substr(0, colon);
}

// The type an operand's value has when the grammar alone can tell: its
// :TYPE, else the default s64, except for values DWARF types later
// ($retval, variables), which are checked when the probe is resolved.
std::optional<FetchType> known_type(const FetchArg& a) {
  if (a.type) return a.type;
  if (std::holds_alternative<fetch::Variable>(a.expr.node) || std::holds_alternative<fetch::ReturnValue>(a.expr.node))
    return std::nullopt;
  return FetchType::S64;
}

class ConditionParser {
 public:
  ConditionParser(std::string_view word, size_t start, bool is_return, const std::vector<FetchArg>& args)
      : word_(word), pos_(start), if_at_(start - 2), is_return_(is_return), args_(args) {}

  Condition parse() {
    skip_space();
    if (at_end()) fail(if_at_, "nothing after 'if' (e.g. 'if $arg1 > 0')");
    Condition c = parse_any(0);
    skip_space();
    if (!at_end()) {
      if (word_[pos_] == ')') fail(pos_, "')' without its '('");
      fail(pos_, fmt::format("unexpected '{}' (conditions join with && and ||)", rest()));
    }
    return c;
  }

 private:
  [[noreturn]] void fail(size_t at, std::string_view what) const {
    throw_usage_hint(kConditionHint, "bad condition in probe '{}' at column {}: {}", word_, at + 1, what);
  }

  bool at_end() const { return pos_ >= word_.size(); }
  void skip_space() {
    while (!at_end() && is_space(word_[pos_])) ++pos_;
  }
  bool next_is(std::string_view s) const { return word_.substr(pos_).starts_with(s); }
  // The text from here to the next space, for messages.
  std::string_view rest() const {
    size_t end = pos_;
    while (end < word_.size() && !is_space(word_[end])) ++end;
    return word_.substr(pos_, end - pos_);
  }

  Condition parse_any(unsigned depth) {
    Condition first = parse_all(depth);
    skip_space();
    if (!next_is("||")) return first;
    Condition any;
    any.kind = Condition::Kind::Any;
    any.position = first.position;
    any.children.push_back(std::move(first));
    while (next_is("||")) {
      pos_ += 2;
      any.children.push_back(parse_all(depth));
      skip_space();
    }
    return any;
  }

  Condition parse_all(unsigned depth) {
    Condition first = parse_unary(depth);
    skip_space();
    if (!next_is("&&")) return first;
    Condition all;
    all.kind = Condition::Kind::All;
    all.position = first.position;
    all.children.push_back(std::move(first));
    while (next_is("&&")) {
      pos_ += 2;
      all.children.push_back(parse_unary(depth));
      skip_space();
    }
    return all;
  }

  Condition parse_unary(unsigned depth) {
    skip_space();
    if (depth > kMaxDepth) fail(pos_, fmt::format("nested deeper than {} levels", kMaxDepth));
    if (at_end()) fail(pos_, "expected a comparison, '!' or '(' but the probe ends");
    const size_t start = pos_;
    const char c = word_[pos_];
    if (c == '!' && !next_is("!=")) {
      ++pos_;
      Condition n;
      n.kind = Condition::Kind::Not;
      n.position = start;
      n.children.push_back(parse_unary(depth + 1));
      return n;
    }
    if (c == '(') {
      ++pos_;
      Condition inner = parse_any(depth + 1);
      skip_space();
      if (at_end() || word_[pos_] != ')') {
        if (at_end()) fail(start, "this '(' has no ')'");
        fail(pos_, fmt::format("expected ')' for the '(' at column {}, not '{}'", start + 1, rest()));
      }
      ++pos_;
      return inner;
    }
    return parse_compare();
  }

  // Up to a space, an operator or a ')' that closes a group; parentheses of
  // +OFF(EXPR) are the operand's own, and so is the '>' of "->".
  std::string_view scan_operand() {
    const size_t start = pos_;
    unsigned parens = 0;
    size_t open_at = 0;  // the outermost '(' still open, for its message
    while (!at_end()) {
      const char c = word_[pos_];
      if (parens == 0) {
        if (is_space(c)) break;
        if (c == '-' && next_is("->")) {
          pos_ += 2;
          continue;
        }
        if (c == '=' || c == '!' || c == '<' || c == '>' || c == '~' || c == '&' || c == '|' || c == '"') break;
        if (c == ')') break;
      }
      if (c == '(' && parens++ == 0) open_at = pos_;
      if (c == ')') --parens;
      ++pos_;
    }
    // Inside +OFF(...) spaces and operators are the operand's: an unclosed
    // one swallows the rest of the word, which only its '(' explains.
    if (parens != 0) fail(open_at, "this '(' has no ')'");
    return word_.substr(start, pos_ - start);
  }

  std::optional<CompareOp> scan_op() {
    static constexpr std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::Eq}, {"!=", CompareOp::Ne}, {"<=", CompareOp::Le}, {">=", CompareOp::Ge},
        {"<", CompareOp::Lt},  {">", CompareOp::Gt},  {"~", CompareOp::Glob}};
    for (const auto& [text, op] : kOps) {
      if (next_is(text)) {
        pos_ += text.size();
        return op;
      }
    }
    return std::nullopt;
  }

  Condition parse_compare() {
    Condition c;
    c.kind = Condition::Kind::Compare;
    c.position = pos_;
    const size_t operand_at = pos_;
    const std::string_view text = scan_operand();
    if (text.empty()) {
      if (word_[pos_] == '"') fail(pos_, "a \"string\" goes after the operator (e.g. 'if path == \"x\"')");
      fail(pos_, fmt::format("expected a fetch expression or a NAME before '{}'", rest()));
    }
    std::optional<FetchType> type = bind_operand(text, operand_at, c.operand);

    skip_space();
    const size_t op_at = pos_;
    std::optional<CompareOp> op = scan_op();
    if (!op) {
      if (at_end()) fail(pos_, fmt::format("expected == != < <= > >= or ~ after '{}' but the probe ends", text));
      if (next_is("=")) fail(pos_, "'=' is not a comparison (did you mean '=='?)");
      fail(pos_, fmt::format("expected == != < <= > >= or ~ after '{}', not '{}'", text, rest()));
    }
    c.op = *op;
    skip_space();
    const size_t literal_at = pos_;
    c.literal = parse_literal(*op);
    check_types(text, type, c.op, c.literal, op_at, literal_at);
    return c;
  }

  // Fills `out` from the operand's text; returns its type when known now.
  std::optional<FetchType> bind_operand(std::string_view text, size_t at, CondOperand& out) {
    const std::string_view expr = without_type(text);
    if (is_identifier(expr)) {
      for (const FetchArg& a : args_) {
        if (a.name != expr) continue;
        if (expr.size() != text.size())
          fail(at, fmt::format("'{}' is the argument {}: give its type where it is defined ({}=EXPR:TYPE)", text,
                               a.name, a.name));
        out.arg_name = a.name;
        return known_type(a);
      }
    }
    const std::string prefix = fmt::format("bad condition in probe '{}' at column {}: in '{}': ", word_, at + 1, text);
    try {
      out.expr = parse_fetch_arg(word_, text, is_return_, prefix);
    } catch (const Error& e) {
      // The fetch grammar's message, with the condition's hint.
      throw Error(ErrorKind::Usage, e.what(), e.hint().empty() ? kConditionHint : e.hint());
    }
    if (std::holds_alternative<fetch::Params>(out.expr.expr.node))
      fail(at, "$params is many values: compare one of them by its name");
    return known_type(out.expr);
  }

  CondLiteral parse_literal(CompareOp op) {
    if (at_end())
      fail(pos_, fmt::format("expected an integer or a \"string\" after '{}' but the probe ends", to_string(op)));
    if (word_[pos_] == '"') return parse_string();
    const size_t start = pos_;
    bool negative = false;
    if (word_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    const size_t digits_at = pos_;
    while (!at_end() && (is_ident_char(word_[pos_]))) ++pos_;
    const std::string_view digits = word_.substr(digits_at, pos_ - digits_at);
    const std::string_view all = word_.substr(start, pos_ - start);
    if (digits.empty() || !is_digit(digits[0]))
      fail(start, fmt::format("expected an integer or a \"string\" after '{}', not '{}'", to_string(op),
                              all.empty() ? rest() : all));
    uint64_t magnitude = 0;
    switch (parse_number(digits, magnitude)) {
      case NumberStatus::Ok: break;
      case NumberStatus::NotANumber:
        fail(start, fmt::format("'{}' is not a number (decimal or 0x-hex)", all));
      case NumberStatus::TooLarge: fail(start, fmt::format("'{}' does not fit in 64 bits", all));
    }
    if (negative && magnitude > uint64_t{1} << 63) fail(start, fmt::format("'{}' does not fit in 64 bits", all));
    CondLiteral l;
    l.bits = negative ? 0 - magnitude : magnitude;
    return l;
  }

  CondLiteral parse_string() {
    const size_t open = pos_++;
    CondLiteral l;
    l.is_string = true;
    for (;;) {
      if (at_end()) fail(open, "this string has no closing '\"'");
      const char c = word_[pos_];
      if (c == '"') {
        ++pos_;
        return l;
      }
      if (c != '\\') {
        l.text.push_back(c);
        ++pos_;
        continue;
      }
      const size_t escape_at = pos_++;
      if (at_end()) fail(open, "this string has no closing '\"'");
      const char e = word_[pos_++];
      switch (e) {
        case 'n': l.text.push_back('\n'); break;
        case 't': l.text.push_back('\t'); break;
        case 'r': l.text.push_back('\r'); break;
        case 'a': l.text.push_back('\a'); break;
        case 'b': l.text.push_back('\b'); break;
        case 'f': l.text.push_back('\f'); break;
        case 'v': l.text.push_back('\v'); break;
        case '\\': l.text.push_back('\\'); break;
        case '"': l.text.push_back('"'); break;
        case '\'': l.text.push_back('\''); break;
        case '?': l.text.push_back('?'); break;
        case 'x': {
          unsigned value = 0, n = 0;
          while (n < 2 && !at_end() && is_hex_digit(word_[pos_])) {
            const char h = word_[pos_++];
            value = value * 16 + static_cast<unsigned>(is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
            ++n;
          }
          if (n == 0) fail(escape_at, "'\\x' needs hex digits (e.g. \\x41)");
          l.text.push_back(static_cast<char>(value));
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            unsigned value = static_cast<unsigned>(e - '0'), n = 1;
            while (n < 3 && !at_end() && word_[pos_] >= '0' && word_[pos_] <= '7') {
              value = value * 8 + static_cast<unsigned>(word_[pos_++] - '0');
              ++n;
            }
            if (value > 0xff) fail(escape_at, fmt::format("'\\{:o}' is more than a byte", value));
            l.text.push_back(static_cast<char>(value));
            break;
          }
          fail(escape_at, fmt::format("unknown escape '\\{}' (C escapes: \\n \\t \\\\ \\\" \\xNN \\NNN ...)", e));
      }
    }
  }

  void check_types(std::string_view operand, std::optional<FetchType> type, CompareOp op, const CondLiteral& literal,
                   size_t op_at, size_t literal_at) const {
    if (op == CompareOp::Glob && !literal.is_string)
      fail(literal_at, "'~' matches a string against a glob: give a \"pattern\" (e.g. \"/etc/*\")");
    const bool ordering = op == CompareOp::Lt || op == CompareOp::Le || op == CompareOp::Gt || op == CompareOp::Ge;
    if (literal.is_string && ordering) fail(op_at, fmt::format("strings compare with ==, != or ~, not '{}'", to_string(op)));
    if (!type) return;
    if (*type == FetchType::String && !literal.is_string)
      fail(literal_at, fmt::format("'{}' is a string: compare it with a \"string\"", operand));
    if (*type != FetchType::String && literal.is_string)
      fail(literal_at, fmt::format("'{}' is an integer ({}), not a string (with :string it is the string it points to)",
                                   operand, to_string(*type)));
  }

  std::string_view word_;
  size_t pos_;
  size_t if_at_;
  bool is_return_;
  const std::vector<FetchArg>& args_;
};

}  // namespace

Condition parse_condition(std::string_view word, size_t start, bool is_return_probe, const std::vector<FetchArg>& args) {
  return ConditionParser(word, start, is_return_probe, args).parse();
}

}  // namespace uptrace::cmd
