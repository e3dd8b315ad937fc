#pragma once
// The access path of a DWARF fetch argument as written (`req->hdr.len`,
// `arr[2]`, `*p`), split into a base name and steps. cmd/ checks the syntax,
// elf/ resolves the steps against DWARF types.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace uptrace {

struct PathStep {
  enum class Kind : uint8_t { Member, Arrow, Index } kind = Kind::Member;
  std::string member;  // Member (.f) and Arrow (->f)
  uint64_t index = 0;  // Index ([n])
};

struct VariablePath {
  unsigned derefs = 0;  // leading '*': applied after the steps, as C's precedence says
  std::string base;     // the variable's name (may be a C++ name: ns::x)
  std::vector<PathStep> steps;
};

// nullopt when `text` is not a path of the grammar
//   '*'* ident ('::' ident)* ( '.' ident | '->' ident | '[' number ']' )*
// (number: decimal or 0x-hex).
std::optional<VariablePath> parse_variable_path(std::string_view text);

}  // namespace uptrace
