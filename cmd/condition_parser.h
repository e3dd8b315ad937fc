#pragma once
// The `if COND` of a probe (SPEC.md "Filters"), by recursive descent:
//
//   COND    := OR
//   OR      := AND ('||' AND)*
//   AND     := UNARY ('&&' UNARY)*
//   UNARY   := '!' UNARY | '(' COND ')' | OPERAND OP LITERAL
//   OPERAND := a fetch expression [:TYPE], or a NAME defined earlier in the probe
//   OP      := == != < <= > >= ~
//   LITERAL := decimal or 0x-hex integer, optionally negative | "string" with C escapes
#include <cstddef>
#include <string_view>
#include <vector>

#include "common/condition.h"
#include "common/fetch.h"

namespace uptrace::cmd {

// Parses the condition that starts at `start` in the probe word `word` (just
// after its "if") and runs to the end of the word. `args`: the probe's
// fetch arguments, which the condition may name. Throws Error(Usage), one
// line naming the probe and the column (1-based, in the word) where it
// went wrong.
Condition parse_condition(std::string_view word, size_t start, bool is_return_probe, const std::vector<FetchArg>& args);

}  // namespace uptrace::cmd
