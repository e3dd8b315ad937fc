#pragma once
// The DWARF expression machine (DWARF 5 section 2.5/2.6) over a stopped
// thread: a pure function of an expression, the thread's registers (by DWARF
// number) and its memory, so it is tested over fake registers and memory.
// Arch-neutral: the ISA maps DWARF register numbers before it gets here.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/dwarf_plan.h"
#include "common/memory.h"

namespace uptrace::core {

// The registers of the stopped thread, as DWARF numbers them.
class DwarfRegisters {
 public:
  virtual ~DwarfRegisters() = default;
  virtual std::optional<uint64_t> read(unsigned dwarf_regno) const = 0;
};

// A value that lives in registers or in the expression itself, as the
// target's (little-endian) bytes. 32 bytes hold any scalar and most small
// structs the compiler splits over registers.
struct ValueBytes {
  static constexpr size_t kMax = 32;
  std::array<uint8_t, kMax> data{};
  uint8_t size = 0;
};

// Where a variable is.
struct DwarfPlace {
  enum class Kind : uint8_t {
    Memory,        // at addr
    Bytes,         // its value is bytes (register, DW_OP_stack_value, implicit value, pieces)
    OptimizedOut,  // no value here: empty location, DW_OP_entry_value, implicit pointers
    Fault,         // memory the expression needed was unreadable
    Unsupported,   // an op uptrace does not evaluate (why says which)
  } kind = Kind::OptimizedOut;
  uint64_t addr = 0;
  ValueBytes bytes;
  std::string_view why;  // static text
};

struct DwarfContext {
  const DwarfRegisters& regs;
  MemoryAccess& mem;
  const dwarf::Expr* frame_base = nullptr;  // for DW_OP_fbreg
  const dwarf::Expr* cfa = nullptr;         // for DW_OP_call_frame_cfa (a DWARF expression, not a location)
  uint64_t load_bias = 0;                   // for DW_OP_addr
};

// Evaluates a location description.
DwarfPlace evaluate_location(const dwarf::Expr& expr, const DwarfContext& ctx);

// Why uptrace cannot evaluate `expr` (an op it does not implement), or
// nullopt. Ops that make a value "optimized out" are supported.
std::optional<std::string> unsupported_op(const dwarf::Expr& expr);
// The DWARF register numbers `expr` reads, so binding can check the ISA has them.
std::vector<unsigned> registers_used(const dwarf::Expr& expr);
// Whether `expr` uses DW_OP_fbreg / DW_OP_call_frame_cfa.
bool uses_frame_base(const dwarf::Expr& expr);
bool uses_cfa(const dwarf::Expr& expr);
// "DW_OP_fbreg -20", "DW_OP_reg5 (rdi); DW_OP_piece 8", with register names from `reg_name`.
std::string describe(const dwarf::Expr& expr, const std::function<std::string(unsigned)>& reg_name);

}  // namespace uptrace::core
