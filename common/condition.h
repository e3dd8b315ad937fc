#pragma once
// A probe's filter, `if COND` (SPEC.md "Filters"): parsed by cmd/ from the
// probe word, bound and evaluated by core/ on each hit, or compiled into a
// jump trampoline by arch/ when registers are all it reads. Plain data.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fetch.h"

namespace uptrace {

enum class CompareOp : uint8_t { Eq, Ne, Lt, Le, Gt, Ge, Glob };

std::string_view to_string(CompareOp op);  // "==", ..., "~"

// The hint of every malformed condition: the grammar, by example.
inline constexpr const char* kConditionHint =
    "COND is EXPR OP LITERAL (OP: == != < <= > >= ~), joined by && || ! and ( ), e.g. "
    "'open path=+0($arg1):string if path ~ \"/etc/*\"'";

// The value a comparison reads: an argument the probe fetches anyway (a NAME
// defined earlier in the probe), or an expression of the condition's own.
struct CondOperand {
  std::optional<std::string> arg_name;  // the argument of that name, or
  FetchArg expr;                        // this expression (name: as written)
};

struct CondLiteral {
  bool is_string = false;
  // An integer as 64 bits (a negative one in two's complement): compared
  // signed or unsigned as the operand's TYPE says.
  uint64_t bits = 0;
  std::string text;  // a string, its escapes resolved
};

struct Condition {
  enum class Kind : uint8_t {
    Compare,  // operand op literal
    All,      // every child holds (&&)
    Any,      // some child holds (||)
    Not,      // the one child does not hold
  };
  Kind kind = Kind::Compare;
  CondOperand operand;
  CompareOp op = CompareOp::Eq;
  CondLiteral literal;
  std::vector<Condition> children;
  // Where it starts in the probe word (0-based), for messages that name
  // the position.
  size_t position = 0;
};

// Whether `a op b` holds for two integers of the same signedness (the
// operand's). One definition for uptrace's evaluator and the unit tests
// that check what trampolines compute.
bool compare_integers(CompareOp op, uint64_t a, uint64_t b, bool is_signed);

}  // namespace uptrace
