#include "cmd/probe_spec.h"

#include <fmt/format.h>

#include <climits>
#include <limits>
#include <set>
#include <utility>

#include "cmd/condition_parser.h"
#include "cmd/number.h"
#include "common/error.h"
#include "elf/demangle.h"

namespace uptrace::cmd {

namespace {

constexpr std::string_view kTypeList = "u8 u16 u32 u64 s8 s16 s32 s64 x8 x16 x32 x64 string";
constexpr std::string_view kExpected =
    "expected %REG, $argN, $retval, $sp, $pc, $params, +OFF(EXPR) or a variable";
// A word is at most MAX_ARG_STRLEN (128 KiB) long, so without a cap a
// pathological nesting would recurse ~40k frames here and again in every
// consumer of the tree (evaluator, printer, destructor).
constexpr unsigned kMaxDerefDepth = 64;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || is_digit(c); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_ident_start(char c) { return is_alpha(c) || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }
bool is_symbol_start(char c) { return is_ident_start(c) || c == '.' || c == '$' || c == '@'; }
bool is_symbol_char(char c) { return is_symbol_start(c) || is_digit(c); }
bool is_glob_char(char c) { return c == '*' || c == '?' || c == '['; }

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_digit(c)) return false;
  }
  return true;
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !is_ident_start(s[0])) return false;
  for (char c : s) {
    if (!is_ident_char(c)) return false;
  }
  return true;
}

// Length of the balanced group that opens at s[0] ('(' or '<'), counting
// both kinds; 0 when it does not close.
size_t balanced_group(std::string_view s) {
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '(' || s[i] == '<') ++depth;
    if ((s[i] == ')' || s[i] == '>') && --depth == 0) return i + 1;
  }
  return 0;
}

// What may follow a C++ parameter list: "() const", "() &&".
size_t trailing_qualifiers(std::string_view s) {
  size_t i = 0;
  for (;;) {
    size_t j = i;
    while (j < s.size() && is_space(s[j])) ++j;
    std::string_view rest = s.substr(j);
    size_t len = 0;
    for (std::string_view q : {"const", "volatile", "&&", "&"}) {
      if (!rest.starts_with(q)) continue;
      if (is_ident_char(q[0]) && rest.size() > q.size() && is_ident_char(rest[q.size()])) continue;
      len = q.size();
      break;
    }
    if (len == 0) return i;
    i = j + len;
  }
}

// Length of the symbol name (or glob) at the start of `s`; sets is_glob.
// Returns 0 when `s` does not start with one. A bracket expression is taken
// whole, so "[+]" stays part of the name. "::" is taken as part of a C++
// name, and so are template arguments ("Box<int>") and a parameter list
// with its qualifiers ("f(char const*) const"), whose '*' and '&' are
// types, except where a type would start ("f(*)", "f(long, *)"); a single
// ':' ends the name.
size_t scan_symbol(std::string_view s, bool& is_glob, std::string& error) {
  is_glob = false;
  size_t i = 0;
  constexpr std::string_view kAnonymous = "(anonymous namespace)::";
  if (s.starts_with(kAnonymous)) i = kAnonymous.size();
  else if (s.empty() || !(is_symbol_start(s[0]) || is_glob_char(s[0]))) return 0;
  while (i < s.size()) {
    char c = s[i];
    if (is_symbol_char(c)) {
      ++i;
    } else if (c == '*' || c == '?') {
      is_glob = true;
      ++i;
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < s.size() && (s[j] == '!' || s[j] == '^')) ++j;
      if (j < s.size() && s[j] == ']') ++j;  // "[]abc]": a leading ']' is a member
      while (j < s.size() && s[j] != ']') ++j;
      if (j >= s.size()) {
        error = fmt::format("unterminated '[' in '{}'", s);
        return 0;
      }
      is_glob = true;
      i = j + 1;
    } else if (c == ':' && i + 1 < s.size() && s[i + 1] == ':' && i > 0 &&
               i + 2 < s.size() && s[i + 2] != ':') {
      i += 2;
      if (s.substr(i).starts_with(kAnonymous)) i += kAnonymous.size();
    } else if (c == '<' && i > 0) {
      size_t len = balanced_group(s.substr(i));
      if (len == 0) {
        error = fmt::format("unbalanced '<' in '{}'", s);
        return 0;
      }
      i += len;
    } else if (c == '(' && i > 0) {
      size_t len = balanced_group(s.substr(i));
      if (len == 0) {
        error = fmt::format("unbalanced '(' in '{}'", s);
        return 0;
      }
      std::string_view params = s.substr(i, len);
      for (size_t k = 0; k < params.size(); ++k) is_glob = is_glob || elf::detail::is_parameter_glob(params, k);
      i += len;
      return i + trailing_qualifiers(s.substr(i));
    } else {
      break;
    }
  }
  return i;
}

// perf probe takes fetch arguments as separate shell words; uptrace takes
// one word per probe, so a stray argument would otherwise read as a probe on
// a function named "$arg1" and fail much later with "no function".
// "%PROVIDER:NAME" rather than "%REG:TYPE".
bool looks_like_marker(std::string_view t) {
  if (!t.starts_with('%')) return false;
  size_t colon = t.rfind(':');
  return colon != std::string_view::npos && colon > 1 && !parse_fetch_type(t.substr(colon + 1));
}

bool looks_like_fetch(std::string_view t) {
  if (looks_like_marker(t)) return false;
  if (t.starts_with('%')) return !t.starts_with("%return");
  if (size_t eq = t.find('='); eq != std::string_view::npos && is_identifier(t.substr(0, eq))) return true;
  std::string_view e = t.substr(0, t.find(':'));
  if (e == "$retval" || e == "$sp" || e == "$pc" || e == "$params") return true;
  if (e.starts_with("$arg") && all_digits(e.substr(4))) return true;
  return (e.starts_with('+') || e.starts_with('-')) && e.find('(') != std::string_view::npos;
}

class Parser {
 public:
  explicit Parser(std::string_view word) : word_(word) {}

  ProbeSpec parse() {
    std::vector<std::string_view> tokens = split(word_);
    if (tokens.empty()) fail("the probe is empty");
    if (looks_like_fetch(tokens[0])) {
      fail(fmt::format("'{}' is a fetch argument: it goes in the word of its probe, quoted (e.g. 'FUNC {}'){}",
                       tokens[0], tokens[0], tokens[0].starts_with('%') ? "; a USDT marker is %PROVIDER:NAME" : ""));
    }
    ProbeSpec spec;
    spec.text = std::string(word_);
    parse_location(tokens[0], spec);
    bool is_return = std::holds_alternative<loc::Return>(spec.location);
    std::set<std::string, std::less<>> names;
    for (size_t i = 1; i < tokens.size(); ++i) {
      // `if` ends the fetch arguments: the rest of the word, spaces and
      // quoted strings included, is the condition. No fetch argument can be
      // "if" (a C keyword names no variable), nor begin with "if(".
      if (tokens[i] == "if" || tokens[i].starts_with("if(")) {
        const size_t at = static_cast<size_t>(tokens[i].data() - word_.data());
        spec.condition = parse_condition(word_, at + 2, is_return, spec.args);
        break;
      }
      FetchArg arg = FetchParser(word_, tokens[i], is_return).parse();
      if (!names.insert(arg.name).second) {
        throw_usage("bad fetch argument '{}' in probe '{}': the name '{}' is used twice (name one of them: NAME=EXPR)",
                    tokens[i], word_, arg.name);
      }
      spec.args.push_back(std::move(arg));
    }
    return spec;
  }

 private:
  [[noreturn]] void fail(std::string_view what) const { throw_usage("bad probe '{}': {}", word_, what); }

  // Blank-separated tokens, except that the location (the first) keeps the
  // blanks of a C++ signature as c++filt prints it: inside its parentheses
  // and template arguments ("f(int, char**)", "Box<int, 4>::get"), and
  // before the qualifiers after it ("ns::Bar::get() const").
  static std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && is_space(s[i])) ++i;
      size_t start = i;
      int depth = 0;
      while (i < s.size()) {
        if (is_space(s[i]) && (!out.empty() || depth <= 0)) {
          size_t qualifiers = out.empty() && i > start && s[i - 1] == ')' ? trailing_qualifiers(s.substr(i)) : 0;
          if (qualifiers == 0) break;
          i += qualifiers;
          continue;
        }
        if (out.empty() && (s[i] == '(' || s[i] == '<')) ++depth;
        if (out.empty() && (s[i] == ')' || s[i] == '>')) --depth;
        ++i;
      }
      if (i > start) out.push_back(s.substr(start, i - start));
    }
    return out;
  }

  void parse_location(std::string_view token, ProbeSpec& spec) {
    // [MODULE:]%PROVIDER:NAME first: its NAME may be all digits.
    if (token.starts_with('%') && token.find(':') != std::string_view::npos) {
      parse_marker(token, spec);
      return;
    }
    if (size_t colon = token.find(":%"); colon != std::string_view::npos) {
      spec.module = std::string(take_module(token.substr(0, colon)));
      parse_marker(token.substr(colon + 1), spec);
      return;
    }
    // SRCFILE:LINE first: "demo.c:42" must not read as module "demo.c".
    size_t last = token.rfind(':');
    if (last != std::string_view::npos && all_digits(token.substr(last + 1)) &&
        (last == 0 || token[last - 1] != ':')) {
      std::string_view head = token.substr(0, last);
      size_t colon = module_separator(head);
      if (colon != std::string_view::npos) {
        spec.module = std::string(take_module(head.substr(0, colon)));
        head = head.substr(colon + 1);
      }
      if (head.empty()) fail(fmt::format("no source file before ':{}'", token.substr(last + 1)));
      parse_source_line(head, token.substr(last + 1), spec);
      return;
    }
    std::string_view where = token;
    size_t colon = module_separator(token);
    if (colon != std::string_view::npos) {
      spec.module = std::string(take_module(token.substr(0, colon)));
      where = token.substr(colon + 1);
      if (where.empty()) fail(fmt::format("nothing after module '{}:'", *spec.module));
    }
    if (where.size() >= 2 && where[0] == '0' && (where[1] == 'x' || where[1] == 'X')) {
      parse_address(where, spec);
    } else {
      parse_function(where, spec);
    }
  }

  std::string_view take_module(std::string_view module) const {
    if (module.empty()) fail("empty module name before ':'");
    return module;
  }

  void parse_source_line(std::string_view file, std::string_view digits, ProbeSpec& spec) const {
    uint64_t line = 0;
    if (parse_number(digits, line) != NumberStatus::Ok || line > UINT_MAX) {
      fail(fmt::format("line '{}' is out of range", digits));
    }
    if (line == 0) fail("line 0 does not exist (lines count from 1)");
    spec.location = loc::SourceLine{std::string(file), static_cast<unsigned>(line)};
  }

  // "%PROVIDER:NAME": C identifiers (sdt.h pastes them into symbol names),
  // or globs of them.
  void parse_marker(std::string_view text, ProbeSpec& spec) const {
    std::string_view body = text.substr(1);
    size_t colon = body.find(':');
    if (colon == std::string_view::npos)
      fail(fmt::format("'{}' is not a USDT marker: write %PROVIDER:NAME (see --list)", text));
    loc::Marker m;
    auto part = [&](std::string_view p, std::string& out, const char* what) {
      if (p.empty()) fail(fmt::format("no {} in the USDT marker '{}' (%PROVIDER:NAME)", what, text));
      bool in_brackets = false;
      for (char c : p) {
        if (is_glob_char(c) || c == ']') {
          m.is_glob = true;
          in_brackets = c == '[' || (in_brackets && c != ']');
        } else if (!is_ident_char(c) && !(in_brackets && (c == '!' || c == '^' || c == '-'))) {
          fail(fmt::format("'{}' in the USDT marker '{}' is not part of a {} (letters, digits, _ or a glob)",
                           std::string(1, c), text, what));
        }
      }
      out = std::string(p);
    };
    part(body.substr(0, colon), m.provider, "provider");
    part(body.substr(colon + 1), m.name, "name");
    spec.location = std::move(m);
  }

  void parse_address(std::string_view text, ProbeSpec& spec) const {
    size_t end = 2;
    while (end < text.size() && text[end] != '+' && text[end] != '%' && text[end] != '-') ++end;
    std::string_view number = text.substr(0, end);
    std::string_view rest = text.substr(end);
    uint64_t addr = 0;
    switch (parse_number(number, addr)) {
      case NumberStatus::Ok: break;
      case NumberStatus::NotANumber: fail(fmt::format("address '{}' is not a number", number));
      case NumberStatus::TooLarge: fail(fmt::format("address '{}' is out of range", number));
    }
    if (rest == "%return") fail(fmt::format("%return needs a function name, not the address '{}'", number));
    if (!rest.empty()) fail(fmt::format("unexpected '{}' after the address '{}'", rest, number));
    spec.location = loc::Address{addr};
  }

  void parse_function(std::string_view text, ProbeSpec& spec) const {
    bool is_glob = false;
    std::string error;
    size_t len = scan_symbol(text, is_glob, error);
    if (!error.empty()) fail(error);
    if (len == 0) fail(fmt::format("'{}' is not a function name, 0xADDR or SRCFILE:LINE", text));
    std::string name(text.substr(0, len));
    std::string_view rest = text.substr(len);
    if (rest.empty()) {
      spec.location = loc::Function{name, 0, false, is_glob};
      return;
    }
    if (rest[0] == '%') {
      if (rest == "%return") {
        spec.location = loc::Return{name, is_glob};
        return;
      }
      if (rest.starts_with("%return+")) fail("an offset cannot be combined with %return");
      fail(fmt::format("unknown suffix '{}' (the only one is %return)", rest));
    }
    if (rest[0] == '-' && rest.size() > 1 && is_digit(rest[1])) {
      fail(fmt::format("negative offset '{}' (offsets count forward from the function start)", rest));
    }
    if (rest[0] != '+') fail(fmt::format("unexpected '{}' after the function name '{}'", rest, name));
    std::string_view offset_text = rest.substr(1);
    if (offset_text.ends_with("%return")) fail("an offset cannot be combined with %return");
    if (offset_text.empty()) fail(fmt::format("missing offset after '{}+'", name));
    if (offset_text[0] == '-') {
      fail(fmt::format("negative offset '{}' (offsets count forward from the function start)", offset_text));
    }
    uint64_t offset = 0;
    switch (parse_number(offset_text, offset)) {
      case NumberStatus::Ok: break;
      case NumberStatus::NotANumber: fail(fmt::format("offset '{}' is not a number", offset_text));
      case NumberStatus::TooLarge: fail(fmt::format("offset '{}' is out of range", offset_text));
    }
    spec.location = loc::Function{name, offset, true, is_glob};
  }

  std::string_view word_;

 public:
  // One fetch argument, "[NAME=]EXPR[:TYPE]", by recursive descent over EXPR.
  // Errors begin with `error_prefix` (the default names the argument and
  // the probe).
  class FetchParser {
   public:
    FetchParser(std::string_view word, std::string_view token, bool is_return, std::string error_prefix = {})
        : word_(word), token_(token), is_return_(is_return), error_prefix_(std::move(error_prefix)) {
      if (error_prefix_.empty()) error_prefix_ = fmt::format("bad fetch argument '{}' in probe '{}': ", token_, word_);
    }

    FetchArg parse() {
      FetchArg arg;
      std::string_view rest = token_;
      std::optional<std::string_view> name;
      if (size_t eq = rest.find('='); eq != std::string_view::npos) {
        name = rest.substr(0, eq);
        if (name->empty()) fail("empty name before '='");
        if (!is_identifier(*name)) {
          fail(fmt::format("the name '{}' is not an identifier ([A-Za-z_][A-Za-z0-9_]*)", *name));
        }
        rest = rest.substr(eq + 1);
      }
      // The type is after the last single ':'; "ns::var" has none.
      size_t colon = rest.rfind(':');
      if (colon != std::string_view::npos && (colon == 0 || rest[colon - 1] != ':')) {
        std::string_view type_text = rest.substr(colon + 1);
        if (type_text.empty()) fail(fmt::format("empty type after ':' (types: {})", kTypeList));
        arg.type = parse_fetch_type(type_text);
        if (!arg.type) fail(fmt::format("unknown type '{}' (types: {})", type_text, kTypeList));
        rest = rest.substr(0, colon);
      }
      if (rest.empty()) fail("empty expression");
      expr_ = rest;
      pos_ = 0;
      arg.expr = parse_expr(0);
      if (pos_ != expr_.size()) {
        fail(fmt::format("unexpected '{}' after '{}'", expr_.substr(pos_), expr_.substr(0, pos_)));
      }

      bool is_params = std::holds_alternative<fetch::Params>(arg.expr.node);
      if (is_params && name) fail("$params takes no NAME= (each parameter is named after itself)");
      if (is_params && arg.type) fail("$params takes no :TYPE (each parameter keeps its DWARF type)");
      if (name) {
        arg.name = std::string(*name);
      } else if (rest.starts_with('$')) {
        arg.name = std::string(rest.substr(1));  // a bare $argN, $retval, $sp, $pc, $params
      } else {
        arg.name = std::string(rest);
      }
      // A string lives in memory: for a plain value ($arg1, %rdi) the value is
      // the pointer to it, so $arg1:string means +0($arg1):string and the
      // evaluator reads strings only at a memory reference. Variables keep
      // their form: DWARF knows whether they are arrays or pointers.
      if (arg.type == FetchType::String && !std::holds_alternative<fetch::Deref>(arg.expr.node) &&
          !std::holds_alternative<fetch::Variable>(arg.expr.node)) {
        auto inner = std::make_shared<const FetchExpr>(std::move(arg.expr));
        arg.expr = FetchExpr{fetch::Deref{0, std::move(inner)}};
      }
      return arg;
    }

   private:
    [[noreturn]] void fail(std::string_view what) const { throw_usage("{}{}", error_prefix_, what); }

    bool at_end_of_operand() const { return pos_ >= expr_.size() || expr_[pos_] == ')'; }

    // Up to the end of the operand: what a bad register or variable was.
    std::string_view operand_text(size_t start) const {
      size_t end = start;
      while (end < expr_.size() && expr_[end] != ')' && expr_[end] != '(') ++end;
      return expr_.substr(start, end - start);
    }

    [[noreturn]] void not_an_expression(size_t start) const {
      fail(fmt::format("'{}' is not a fetch expression ({})", operand_text(start), kExpected));
    }

    FetchExpr parse_expr(unsigned depth) {
      if (pos_ >= expr_.size() || expr_[pos_] == ')') fail(fmt::format("missing expression in '{}'", expr_));
      char c = expr_[pos_];
      if (c == '%') return parse_register();
      if (c == '$') return parse_special(depth);
      if (c == '+' || c == '-' || is_digit(c)) return parse_deref(depth);
      if (is_ident_start(c) || c == '*') return parse_variable();
      if (c == '(') fail(fmt::format("missing offset before '(' in '{}' (e.g. +0(...))", expr_));
      not_an_expression(pos_);
    }

    FetchExpr parse_register() {
      size_t start = pos_++;
      while (pos_ < expr_.size() && is_lower_alnum(expr_[pos_])) ++pos_;
      if (pos_ == start + 1 || !at_end_of_operand()) {
        fail(fmt::format("bad register '{}' (a register is % and its lowercase name, e.g. %rdi)",
                         operand_text(start)));
      }
      return FetchExpr{fetch::Register{std::string(expr_.substr(start + 1, pos_ - start - 1))}};
    }

    FetchExpr parse_special(unsigned depth) {
      size_t start = pos_++;
      while (pos_ < expr_.size() && is_ident_char(expr_[pos_])) ++pos_;
      std::string_view text = expr_.substr(start, pos_ - start);
      std::string_view id = text.substr(1);
      if (!at_end_of_operand()) {
        fail(fmt::format("unknown variable '{}' (known: $argN $retval $sp $pc $params)", operand_text(start)));
      }
      if (id == "retval") {
        if (!is_return_) fail("$retval is only available at a FUNC%return probe");
        return FetchExpr{fetch::ReturnValue{}};
      }
      if (id == "sp") return FetchExpr{fetch::StackPointer{}};
      if (id == "pc") return FetchExpr{fetch::ProgramCounter{}};
      if (id == "params") {
        if (depth > 0) fail("$params cannot be dereferenced");
        return FetchExpr{fetch::Params{}};
      }
      if (id.starts_with("arg")) {
        std::string_view digits = id.substr(3);
        if (digits.empty()) fail(fmt::format("'{}' needs an argument number ($arg1, $arg2, ...)", text));
        uint64_t n = 0;
        if (all_digits(digits)) {
          if (parse_number(digits, n) != NumberStatus::Ok || n > UINT_MAX) {
            fail(fmt::format("argument number in '{}' is out of range", text));
          }
          if (n == 0) fail(fmt::format("'{}' does not exist (arguments count from 1: $arg1)", text));
          return FetchExpr{fetch::Argument{static_cast<unsigned>(n)}};
        }
      }
      fail(fmt::format("unknown variable '{}' (known: $argN $retval $sp $pc $params)", text));
    }

    FetchExpr parse_deref(unsigned depth) {
      size_t start = pos_;
      bool negative = expr_[pos_] == '-';
      if (expr_[pos_] == '+' || expr_[pos_] == '-') ++pos_;
      size_t number_start = pos_;
      while (pos_ < expr_.size() && expr_[pos_] != '(' && expr_[pos_] != ')') ++pos_;
      std::string_view number = expr_.substr(number_start, pos_ - number_start);
      if (pos_ >= expr_.size() || expr_[pos_] != '(') {
        if (number_start == start) {  // a bare number: a constant, which we do not fetch
          fail(fmt::format("'{}' is not a fetch expression ({})", number, kExpected));
        }
        fail(fmt::format("expected '(' after the offset '{}'", expr_.substr(start, pos_ - start)));
      }
      if (number.empty()) fail(fmt::format("missing offset before '(' in '{}'", expr_));
      uint64_t magnitude = 0;
      switch (parse_number(number, magnitude)) {
        case NumberStatus::Ok: break;
        case NumberStatus::NotANumber: fail(fmt::format("offset '{}' is not a number", number));
        case NumberStatus::TooLarge: fail(fmt::format("offset '{}' is out of range", number));
      }
      uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + (negative ? 1 : 0);
      if (magnitude > limit) fail(fmt::format("offset '{}' is out of range", expr_.substr(start, pos_ - start)));
      int64_t offset = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
      if (depth + 1 > kMaxDerefDepth) fail(fmt::format("nested deeper than {} levels", kMaxDerefDepth));
      ++pos_;  // '('
      FetchExpr inner = parse_expr(depth + 1);
      if (pos_ >= expr_.size() || expr_[pos_] != ')') {
        if (pos_ >= expr_.size()) fail(fmt::format("missing ')' in '{}'", expr_));
        fail(fmt::format("unexpected '{}' after '{}'", expr_.substr(pos_), expr_.substr(0, pos_)));
      }
      ++pos_;  // ')'
      return FetchExpr{fetch::Deref{offset, std::make_shared<const FetchExpr>(std::move(inner))}};
    }

    // '*'* ident ('::' ident)* ( '->' ident | '.' ident | '[' number ']' )*
    // The path is resolved against DWARF later; here it only has to be one.
    FetchExpr parse_variable() {
      size_t start = pos_;
      auto ident = [&]() {
        if (pos_ >= expr_.size() || !is_ident_start(expr_[pos_])) not_an_expression(start);
        while (pos_ < expr_.size() && is_ident_char(expr_[pos_])) ++pos_;
      };
      while (pos_ < expr_.size() && expr_[pos_] == '*') ++pos_;
      ident();
      while (expr_.substr(pos_).starts_with("::")) {
        pos_ += 2;
        ident();
      }
      while (pos_ < expr_.size() && expr_[pos_] != ')') {
        std::string_view rest = expr_.substr(pos_);
        if (rest.starts_with("->")) {
          pos_ += 2;
          ident();
        } else if (rest[0] == '.') {
          pos_ += 1;
          ident();
        } else if (rest[0] == '[') {
          size_t close = rest.find(']');
          uint64_t index = 0;
          if (close == std::string_view::npos || parse_number(rest.substr(1, close - 1), index) != NumberStatus::Ok) {
            not_an_expression(start);
          }
          pos_ += close + 1;
        } else {
          not_an_expression(start);
        }
      }
      return FetchExpr{fetch::Variable{std::string(expr_.substr(start, pos_ - start))}};
    }

    std::string_view word_;
    std::string_view token_;
    bool is_return_;
    std::string error_prefix_;
    std::string_view expr_;
    size_t pos_ = 0;
  };
};

}  // namespace

size_t module_separator(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    // A parameter list or template arguments hold no module.
    if (s[i] == '(' || s[i] == '<') return std::string_view::npos;
    if (s[i] != ':') continue;
    size_t run = 1;
    while (i + run < s.size() && s[i + run] == ':') ++run;
    if (run == 1) return i;
    i += run - 1;
  }
  return std::string_view::npos;
}

std::string ProbeSpec::display_name(std::string_view matched_function) const {
  std::string out;
  if (module) {
    out += *module;
    out += ':';
  }
  auto name = [&](const std::string& written, bool is_glob) -> std::string_view {
    return is_glob && !matched_function.empty() ? matched_function : std::string_view(written);
  };
  if (const auto* f = std::get_if<loc::Function>(&location)) {
    out += name(f->name, f->is_glob);
    if (f->has_offset) out += fmt::format("+{:#x}", f->offset);
  } else if (const auto* r = std::get_if<loc::Return>(&location)) {
    out += name(r->name, r->is_glob);
    out += "%return";
  } else if (const auto* a = std::get_if<loc::Address>(&location)) {
    out += fmt::format("{:#x}", a->addr);
  } else if (const auto* s = std::get_if<loc::SourceLine>(&location)) {
    out += fmt::format("{}:{}", s->file, s->line);
  } else if (const auto* m = std::get_if<loc::Marker>(&location)) {
    out += '%';
    out += m->is_glob && !matched_function.empty() ? std::string(matched_function) : m->provider + ":" + m->name;
  }
  return out;
}

ProbeSpec parse_probe(std::string_view word) { return Parser(word).parse(); }

FetchArg parse_fetch_arg(std::string_view word, std::string_view token, bool is_return_probe,
                         std::string error_prefix) {
  return Parser::FetchParser(word, token, is_return_probe, std::move(error_prefix)).parse();
}

}  // namespace uptrace::cmd
