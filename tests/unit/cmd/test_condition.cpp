// The `if COND` of a probe (SPEC.md "Filters"): every form of the grammar,
// as a tree written out in one string, and every malformed condition as
// the one usage error line that names its column.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <string>

#include "cmd/probe_spec.h"
#include "common/error.h"

using uptrace::CompareOp;
using uptrace::Condition;
using uptrace::FetchExpr;
using uptrace::cmd::parse_probe;
using uptrace::cmd::ProbeSpec;
namespace fetch = uptrace::fetch;

namespace {

std::string expr(const FetchExpr& e) {
  const auto& n = e.node;
  if (const auto* r = std::get_if<fetch::Register>(&n)) return "%" + r->name;
  if (const auto* a = std::get_if<fetch::Argument>(&n)) return fmt::format("$arg{}", a->index);
  if (std::holds_alternative<fetch::ReturnValue>(n)) return "$retval";
  if (std::holds_alternative<fetch::StackPointer>(n)) return "$sp";
  if (std::holds_alternative<fetch::ProgramCounter>(n)) return "$pc";
  if (const auto* d = std::get_if<fetch::Deref>(&n)) return fmt::format("{:+}({})", d->offset, expr(*d->inner));
  if (const auto* v = std::get_if<fetch::Variable>(&n)) return "var " + v->path;
  return "?";
}

// The condition as a tree in one string: all(...), any(...), not(...),
// and a comparison as "OPERAND OP LITERAL", where an operand that names an
// argument is "@NAME" and an expression of its own shows its type.
std::string tree(const Condition& c) {
  auto children = [&] {
    std::string out;
    for (const Condition& child : c.children) out += (out.empty() ? "" : ", ") + tree(child);
    return out;
  };
  switch (c.kind) {
    case Condition::Kind::All: return "all(" + children() + ")";
    case Condition::Kind::Any: return "any(" + children() + ")";
    case Condition::Kind::Not: return "not(" + children() + ")";
    case Condition::Kind::Compare: break;
  }
  std::string operand = c.operand.arg_name
                            ? "@" + *c.operand.arg_name
                            : expr(c.operand.expr.expr) +
                                  (c.operand.expr.type ? ":" + std::string(to_string(*c.operand.expr.type)) : "");
  std::string literal = c.literal.is_string ? "\"" + c.literal.text + "\""
                                            : fmt::format("{}", static_cast<int64_t>(c.literal.bits));
  return fmt::format("{} {} {}", operand, to_string(c.op), literal);
}

std::string cond(std::string_view word) {
  ProbeSpec s = parse_probe(word);
  REQUIRE(s.condition.has_value());
  return tree(*s.condition);
}

std::string usage_error(std::string_view word) {
  try {
    parse_probe(word);
  } catch (const uptrace::Error& e) {
    CHECK(e.kind() == uptrace::ErrorKind::Usage);
    CHECK(e.exit_status() == 2);
    return e.what();
  }
  FAIL("no error for '" << word << "'");
  return {};
}

}  // namespace

TEST_CASE("condition: each comparison operator", "[probe_spec][condition]") {
  CHECK(cond("work if $arg1 == 5") == "$arg1 == 5");
  CHECK(cond("work if $arg1 != 5") == "$arg1 != 5");
  CHECK(cond("work if $arg1 < 5") == "$arg1 < 5");
  CHECK(cond("work if $arg1 <= 5") == "$arg1 <= 5");
  CHECK(cond("work if $arg1 > 5") == "$arg1 > 5");
  CHECK(cond("work if $arg1 >= 5") == "$arg1 >= 5");
  CHECK(cond("open if +0($arg1):string ~ \"/etc/*\"") == "+0($arg1):string ~ \"/etc/*\"");
}

TEST_CASE("condition: spaces are optional around operators", "[probe_spec][condition]") {
  CHECK(cond("work if $arg1>5") == "$arg1 > 5");
  CHECK(cond("work if $arg1>=-5") == "$arg1 >= -5");
  CHECK(cond("work if $arg1<-5") == "$arg1 < -5");
  CHECK(cond("work if($arg1==1)") == "$arg1 == 1");
  CHECK(cond("work if $arg1==1&&$arg2!=2||!($arg3<3)") == "any(all($arg1 == 1, $arg2 != 2), not($arg3 < 3))");
  CHECK(cond("work  if   $arg1  ==  5  ") == "$arg1 == 5");
}

TEST_CASE("condition: integer literals in decimal, 0x-hex, negative, and 64 bits wide", "[probe_spec][condition]") {
  ProbeSpec s = parse_probe("work if $arg1 == 0x1F");
  CHECK(s.condition->literal.bits == 0x1f);
  CHECK(parse_probe("work if $arg1 == 010").condition->literal.bits == 10);  // never octal
  CHECK(parse_probe("work if $arg1 == -1").condition->literal.bits == UINT64_MAX);
  CHECK(parse_probe("work if $arg1 == -0x10").condition->literal.bits == static_cast<uint64_t>(-16));
  CHECK(parse_probe("work if $arg1 == 18446744073709551615").condition->literal.bits == UINT64_MAX);
  CHECK(parse_probe("work if $arg1 == -9223372036854775808").condition->literal.bits == uint64_t{1} << 63);
  CHECK_FALSE(s.condition->literal.is_string);
}

TEST_CASE("condition: string literals with C escapes", "[probe_spec][condition]") {
  auto text = [](std::string_view word) {
    ProbeSpec s = parse_probe(word);
    REQUIRE(s.condition->literal.is_string);
    return s.condition->literal.text;
  };
  CHECK(text(R"(work if $arg1:string == "a b")") == "a b");
  CHECK(text(R"(work if $arg1:string == "")").empty());
  CHECK(text(R"(work if $arg1:string == "q\"x\\y")") == "q\"x\\y");
  CHECK(text(R"(work if $arg1:string == "\n\t\r\a\b\f\v\?\'")") == "\n\t\r\a\b\f\v?'");
  CHECK(text(R"(work if $arg1:string == "\x41\x4a\x7")") == "AJ\x07");
  CHECK(text(R"(work if $arg1:string == "\101\0\7")") == std::string("A\0\7", 3));
  CHECK(text(R"(work if $arg1:string == "&& || ( ) !")") == "&& || ( ) !");
}

TEST_CASE("condition: && binds tighter than ||, chains are flat, ! and ( ) nest", "[probe_spec][condition]") {
  CHECK(cond("w if $arg1 == 1 || $arg2 == 2 && $arg3 == 3") == "any($arg1 == 1, all($arg2 == 2, $arg3 == 3))");
  CHECK(cond("w if ($arg1 == 1 || $arg2 == 2) && $arg3 == 3") == "all(any($arg1 == 1, $arg2 == 2), $arg3 == 3)");
  CHECK(cond("w if $arg1 == 1 && $arg2 == 2 && $arg3 == 3 && $arg4 == 4") ==
        "all($arg1 == 1, $arg2 == 2, $arg3 == 3, $arg4 == 4)");
  CHECK(cond("w if $arg1 == 1 || $arg2 == 2 || $arg3 == 3") == "any($arg1 == 1, $arg2 == 2, $arg3 == 3)");
  CHECK(cond("w if !$arg1 == 1") == "not($arg1 == 1)");  // ! COND: the whole comparison
  CHECK(cond("w if !!($arg1 == 1)") == "not(not($arg1 == 1))");
  CHECK(cond("w if ((($arg1 == 1)))") == "$arg1 == 1");
  CHECK(cond("w if !($arg1 == 1 && !($arg2 < 0))") == "not(all($arg1 == 1, not($arg2 < 0)))");
}

TEST_CASE("condition: operands are fetch expressions with their types", "[probe_spec][condition]") {
  CHECK(cond("w if %rdi == 1") == "%rdi == 1");
  CHECK(cond("w if %edi:s32 < 0") == "%edi:s32 < 0");
  CHECK(cond("w if $sp > 0") == "$sp > 0");
  CHECK(cond("w if $pc == 0x401000") == "$pc == 4198400");
  CHECK(cond("w if +8(+0($arg2)):u16 > 3") == "+8(+0($arg2)):u16 > 3");
  CHECK(cond("w if -8(%rbp):s8 == -1") == "-8(%rbp):s8 == -1");
  CHECK(cond("w if $arg1:string == \"x\"") == "+0($arg1):string == \"x\"");  // the string it points to
  CHECK(cond("w if req->len > 3") == "var req->len > 3");
  CHECK(cond("w if ns::count == 3") == "var ns::count == 3");
  CHECK(cond("w if hdr.flags[2] != 0") == "var hdr.flags[2] != 0");
  CHECK(cond("w%return if $retval < 0") == "$retval < 0");
}

TEST_CASE("condition: a NAME defined earlier in the probe is that argument", "[probe_spec][condition]") {
  ProbeSpec s = parse_probe("open path=+0($arg1):string n=$arg2 if path ~ \"/etc/*\" && n > 0 && arg3 == 1");
  REQUIRE(s.args.size() == 2);  // the condition adds no argument
  CHECK(tree(*s.condition) == "all(@path ~ \"/etc/*\", @n > 0, var arg3 == 1)");
  // A derived name counts too: $arg1's is arg1.
  CHECK(cond("w $arg1 if arg1 == 4") == "@arg1 == 4");
  CHECK(cond("w%return $retval if retval == -1") == "@retval == -1");
  // Only names defined before: the condition's own operands are not names.
  CHECK(cond("w if n == 1") == "var n == 1");
}

TEST_CASE("condition: `if` ends the fetch arguments", "[probe_spec][condition]") {
  ProbeSpec s = parse_probe("work n=$arg1 if n == 1");
  REQUIRE(s.args.size() == 1);
  CHECK(s.args[0].name == "n");
  CHECK_FALSE(parse_probe("work n=$arg1").condition.has_value());
  CHECK_FALSE(parse_probe("iffy").condition.has_value());
  CHECK(parse_probe("work ifx=$arg1").args.front().name == "ifx");
}

TEST_CASE("condition: malformed conditions are usage errors naming the column", "[probe_spec][condition]") {
  struct Row {
    const char* word;
    const char* error;
  };
  const Row rows[] = {
      {"work if", "bad condition in probe 'work if' at column 6: nothing after 'if' (e.g. 'if $arg1 > 0')"},
      {"work if   ", "bad condition in probe 'work if   ' at column 6: nothing after 'if' (e.g. 'if $arg1 > 0')"},
      {"work if $arg1", "bad condition in probe 'work if $arg1' at column 14: expected == != < <= > >= or ~ after "
                        "'$arg1' but the probe ends"},
      {"work if $arg1 >", "bad condition in probe 'work if $arg1 >' at column 16: expected an integer or a \"string\" "
                          "after '>' but the probe ends"},
      {"work if $arg1 = 1", "bad condition in probe 'work if $arg1 = 1' at column 15: '=' is not a comparison (did you "
                            "mean '=='?)"},
      {"work if $arg1 => 1", "bad condition in probe 'work if $arg1 => 1' at column 15: '=' is not a comparison (did "
                             "you mean '=='?)"},
      {"work if $arg1 == x", "bad condition in probe 'work if $arg1 == x' at column 18: expected an integer or a "
                             "\"string\" after '==', not 'x'"},
      {"work if $arg1 == 5x", "bad condition in probe 'work if $arg1 == 5x' at column 18: '5x' is not a number "
                              "(decimal or 0x-hex)"},
      {"work if $arg1 == 0x", "bad condition in probe 'work if $arg1 == 0x' at column 18: '0x' is not a number "
                              "(decimal or 0x-hex)"},
      {"work if $arg1 == 18446744073709551616", "bad condition in probe 'work if $arg1 == 18446744073709551616' at "
                                                "column 18: '18446744073709551616' does not fit in 64 bits"},
      {"work if $arg1 == -9223372036854775809", "bad condition in probe 'work if $arg1 == -9223372036854775809' at "
                                                "column 18: '-9223372036854775809' does not fit in 64 bits"},
      {"work if $arg1 == 1 &", "bad condition in probe 'work if $arg1 == 1 &' at column 20: unexpected '&' "
                               "(conditions join with && and ||)"},
      {"work if $arg1 == 1 and $arg2 == 2", "bad condition in probe 'work if $arg1 == 1 and $arg2 == 2' at column 20: "
                                            "unexpected 'and' (conditions join with && and ||)"},
      {"work if $arg1 == 1 &&", "bad condition in probe 'work if $arg1 == 1 &&' at column 22: expected a comparison, "
                                "'!' or '(' but the probe ends"},
      {"work if || $arg1 == 1", "bad condition in probe 'work if || $arg1 == 1' at column 9: expected a fetch "
                                "expression or a NAME before '||'"},
      {"work if ($arg1 == 1", "bad condition in probe 'work if ($arg1 == 1' at column 9: this '(' has no ')'"},
      {"work if ($arg1 == 1 x", "bad condition in probe 'work if ($arg1 == 1 x' at column 21: expected ')' for the "
                                "'(' at column 9, not 'x'"},
      {"work if $arg1 == 1)", "bad condition in probe 'work if $arg1 == 1)' at column 19: ')' without its '('"},
      {"work if ()", "bad condition in probe 'work if ()' at column 10: expected a fetch expression or a NAME before "
                     "')'"},
      {"work if \"x\" == $arg1", "bad condition in probe 'work if \"x\" == $arg1' at column 9: a \"string\" goes after "
                                 "the operator (e.g. 'if path == \"x\"')"},
      {"work if $arg1:string == \"abc", "bad condition in probe 'work if $arg1:string == \"abc' at column 25: this "
                                        "string has no closing '\"'"},
      {"work if $arg1:string == \"\\q\"", "bad condition in probe 'work if $arg1:string == \"\\q\"' at column 26: "
                                          "unknown escape '\\q' (C escapes: \\n \\t \\\\ \\\" \\xNN \\NNN ...)"},
      {"work if $arg1:string == \"\\x\"", "bad condition in probe 'work if $arg1:string == \"\\x\"' at column 26: "
                                          "'\\x' needs hex digits (e.g. \\x41)"},
      {"work if $arg1:string == \"\\777\"", "bad condition in probe 'work if $arg1:string == \"\\777\"' at column 26: "
                                            "'\\777' is more than a byte"},
      // Kinds of operands and literals that do not go together.
      {"work if $arg1 == \"x\"", "bad condition in probe 'work if $arg1 == \"x\"' at column 18: '$arg1' is an integer "
                                 "(s64), not a string (with :string it is the string it points to)"},
      {"work n=$arg1:u8 if n == \"x\"", "bad condition in probe 'work n=$arg1:u8 if n == \"x\"' at column 25: 'n' is an "
                                        "integer (u8), not a string (with :string it is the string it points to)"},
      {"work if $arg1:string == 1", "bad condition in probe 'work if $arg1:string == 1' at column 25: '$arg1:string' is "
                                    "a string: compare it with a \"string\""},
      {"work if $arg1 ~ 1", "bad condition in probe 'work if $arg1 ~ 1' at column 17: '~' matches a string against a "
                            "glob: give a \"pattern\" (e.g. \"/etc/*\")"},
      {"work if $arg1:string < \"m\"", "bad condition in probe 'work if $arg1:string < \"m\"' at column 22: strings "
                                       "compare with ==, != or ~, not '<'"},
      // The operand itself, as a fetch expression.
      {"work if %nope == 1", nullptr},  // a register is the ISA's to know: checked when bound
      {"work if $arg0 == 1", "bad condition in probe 'work if $arg0 == 1' at column 9: in '$arg0': '$arg0' does not "
                             "exist (arguments count from 1: $arg1)"},
      {"work if $arg1:u7 == 1", "bad condition in probe 'work if $arg1:u7 == 1' at column 9: in '$arg1:u7': unknown "
                                "type 'u7' (types: u8 u16 u32 u64 s8 s16 s32 s64 x8 x16 x32 x64 string)"},
      {"work if $retval == 1", "bad condition in probe 'work if $retval == 1' at column 9: in '$retval': $retval is "
                               "only available at a FUNC%return probe"},
      {"work if $params == 1", "bad condition in probe 'work if $params == 1' at column 9: $params is many values: "
                               "compare one of them by its name"},
      {"work if +8($arg1 == 1", "bad condition in probe 'work if +8($arg1 == 1' at column 11: this '(' has no ')'"},
      {"work n=$arg1 if n:u8 == 1", "bad condition in probe 'work n=$arg1 if n:u8 == 1' at column 17: 'n:u8' is the "
                                    "argument n: give its type where it is defined (n=EXPR:TYPE)"},
  };
  for (const Row& row : rows) {
    INFO(row.word);
    if (!row.error) {
      CHECK_NOTHROW(parse_probe(row.word));
      continue;
    }
    CHECK(usage_error(row.word) == row.error);
  }
}

TEST_CASE("condition: nesting is limited, long chains are not", "[probe_spec][condition]") {
  std::string deep = "work if ";
  for (int i = 0; i < 70; ++i) deep += "!";
  deep += "$arg1 == 1";
  CHECK(usage_error(deep).find("nested deeper than 64 levels") != std::string::npos);
  std::string chain = "work if $arg1 == 0";
  for (int i = 1; i < 500; ++i) chain += fmt::format(" || $arg1 == {}", i);
  ProbeSpec s = parse_probe(chain);
  CHECK(s.condition->children.size() == 500);
}
