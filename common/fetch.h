#pragma once
// Fetch arguments: parsed by cmd/ from the probe word, evaluated by core/ on
// each hit, printed by cmd/. Plain data shared by all three.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace uptrace {

enum class FetchType : uint8_t { U8, U16, U32, U64, S8, S16, S32, S64, X8, X16, X32, X64, String };

// "u32" -> U32; nullopt for an unknown name.
std::optional<FetchType> parse_fetch_type(std::string_view text);
std::string_view to_string(FetchType t);
unsigned fetch_type_bytes(FetchType t);  // 0 for String
bool fetch_type_is_signed(FetchType t);
bool fetch_type_is_hex(FetchType t);

struct FetchExpr;

namespace fetch {
struct Register { std::string name; };        // %rdi (name without '%')
struct Argument { unsigned index = 1; };      // $argN, 1-based
struct ReturnValue {};                        // $retval
struct StackPointer {};                       // $sp
struct ProgramCounter {};                     // $pc
struct Deref {                                // +OFF(EXPR) / -OFF(EXPR)
  int64_t offset = 0;
  std::shared_ptr<const FetchExpr> inner;
};
struct Variable { std::string path; };        // DWARF: len, req->hdr.len (later)
struct Params {};                             // $params (later)
struct Constant { uint64_t value = 0; };      // a USDT marker's argument that the code holds as a number
}  // namespace fetch

struct FetchExpr {
  std::variant<fetch::Register, fetch::Argument, fetch::ReturnValue, fetch::StackPointer,
               fetch::ProgramCounter, fetch::Deref, fetch::Variable, fetch::Params, fetch::Constant>
      node;
};

struct FetchArg {
  std::string name;                  // NAME= or derived from the expression (SPEC.md)
  FetchExpr expr;
  std::optional<FetchType> type;     // nullopt: the default (s64, 8 bytes)
};

// How an integer value is shown, beyond its FetchType: DWARF knows some are
// truth values or enumerators.
enum class ValueShow : uint8_t {
  Number,  // per FetchType
  Bool,    // true / false (JSON true / false)
  Enum,    // the enumerator's name in `text` (JSON string); a number per FetchType when text is empty
};

// One fetched value as it is printed.
struct FetchedValue {
  FetchType type = FetchType::S64;
  bool fault = false;          // unreadable: "(fault)" / null
  bool optimized_out = false;  // DWARF: no value at this pc: "(optimized out)" / null
  ValueShow show = ValueShow::Number;
  uint64_t bits = 0;           // integers, zero- or sign-extended per type
  std::string text;            // strings (raw bytes, without the NUL); Enum: the enumerator
};

// The integer FetchType of `bytes` (1, 2, 4 or 8) bytes; nullopt otherwise.
std::optional<FetchType> integer_fetch_type(unsigned bytes, bool is_signed);

}  // namespace uptrace
