#pragma once
// A DWARF-described fetch argument resolved for one probe site: elf/ builds
// it once from libdw (scopes, location lists, types), core/ evaluates it on
// every hit. Plain data with no libdw handle in it, so it outlives the DWARF
// and can be built by hand in tests.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace uptrace::dwarf {

// One DWARF expression operation, as libdw decodes it.
struct Op {
  uint8_t atom = 0;            // DW_OP_*
  uint64_t number = 0;         // first operand (signed operands sign-extended)
  uint64_t number2 = 0;        // second operand (DW_OP_bregx offset, DW_OP_bit_piece)
  uint64_t offset = 0;         // byte offset of the op in its expression: branch targets
  std::vector<uint8_t> block;  // DW_OP_implicit_value's bytes
};
using Expr = std::vector<Op>;

// How the final bytes are printed.
enum class ValueKind : uint8_t {
  Signed,       // DW_ATE_signed, signed_char
  Unsigned,     // DW_ATE_unsigned, unsigned_char, UTF
  Bool,         // DW_ATE_boolean
  Enum,         // by enumerator name, else the number
  Pointer,      // 0x-hex
  CharPointer,  // the string it points to
  CharArray,    // the string it holds (up to its length or a NUL)
};

struct ValueType {
  ValueKind kind = ValueKind::Signed;
  unsigned size = 8;  // bytes (CharArray: the array's length)
  std::string name;   // as C spells it: "int", "struct hdr *", "enum color", "char[16]"
  bool enum_signed = false;
  // Values sign- or zero-extended to 64 bits per enum_signed.
  std::vector<std::pair<uint64_t, std::string>> enumerators;
};

// What is done after the location gives the variable's place, in order: a
// member or array element is an Offset, `->`, `*` and pointer indexing Deref
// (read an address-sized pointer at the place, go there).
struct Step {
  enum class Kind : uint8_t { Offset, Deref } kind = Kind::Offset;
  int64_t offset = 0;
};

struct VariablePlan {
  std::string name;                          // the argument's name as printed
  std::optional<std::string> optimized_out;  // why there is no value at the site, when there is none
  Expr location;                             // the location description that covers the site's pc
  Expr frame_base;                           // the function's DW_AT_frame_base there (for DW_OP_fbreg)
  Expr cfa;                                  // the CFA rule there (for DW_OP_call_frame_cfa)
  uint64_t load_bias = 0;                    // added to DW_OP_addr
  std::vector<Step> steps;
  ValueType type;
  // For --explain: where it lives ("DW_OP_fbreg -20", "in a location list").
  std::string origin;
};

}  // namespace uptrace::dwarf

namespace uptrace {
struct VariablePath;

// What a probe site offers to fetch by name; elf/ implements it from DWARF.
// Both throw Error (Runtime) with the reason and a hint (a name that is not
// in scope lists the names that are).
class VariableSource {
 public:
  virtual ~VariableSource() = default;
  // `shown` is the argument's name as printed (plans carry it).
  virtual dwarf::VariablePlan variable(const VariablePath& path, const std::string& shown) const = 0;
  // One plan per formal parameter of the innermost function (the inlined one
  // when the site is in an inlined copy), in declaration order.
  virtual std::vector<dwarf::VariablePlan> params() const = 0;
  // For $retval at a FUNC%return probe, whose site is FUNC's entry: how
  // FUNC's return value prints, from its DW_TAG_subprogram's DW_AT_type.
  // nullopt when DWARF does not describe the function (the caller keeps the
  // untyped default). Throws Error (Runtime) with a hint when there is no
  // value to print: FUNC returns void, a struct or union, or a
  // floating-point value (not in the integer return register).
  virtual std::optional<dwarf::ValueType> return_type() const { return std::nullopt; }
};
}  // namespace uptrace
