#pragma once
// Fetch arguments bound to an ISA once, when the probe is resolved (unknown
// registers are usage errors then), and evaluated on every hit against the
// stopped thread's registers and memory.
#include <memory>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "common/dwarf_plan.h"
#include "common/fetch.h"

namespace uptrace::core {

class TraceeMemory;

class FetchProgram {
 public:
  FetchProgram() = default;
  // Throws Error(Usage) naming `probe_text` for a register the ISA lacks or
  // $retval outside a return probe. DWARF arguments (variables, $params) are
  // resolved through `variables`, the site's scope, and throw Error(Runtime)
  // when they cannot be; without `variables` they are only checked for
  // syntax and left out (for validating a command line before resolution).
  // A $retval without :TYPE prints as the function's DWARF return type says
  // when `variables` knows it (VariableSource::return_type), else as s64.
  FetchProgram(const arch::Isa& isa, const std::vector<FetchArg>& args, const std::string& probe_text,
               bool is_return_probe, const VariableSource* variables = nullptr);

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  // The name of each value evaluate() produces, in order: $params is one
  // name per parameter.
  std::vector<std::string> names() const;
  // Whether a DWARF value is read from a stack slot addressed by the frame
  // base: in unoptimised code such slots are filled only by the prologue.
  bool reads_frame_slots() const;
  // For --explain: one line per DWARF value, "len: int, DW_OP_fbreg -20".
  std::vector<std::string> describe_variables() const;
  // One value per argument; unreadable memory gives a fault value.
  void evaluate(const arch::Regs& regs, uint64_t probe_pc, MemoryAccess& mem, std::vector<FetchedValue>& out) const;

  // What a jump trampoline must record so that evaluate() can run later in
  // uptrace without the target's memory: the register words it reads. Empty
  // `why_not` when registers are enough.
  struct Captures {
    std::vector<uint16_t> words;
    std::string why_not;
  };
  Captures register_captures() const;

  // The type value `i` of evaluate() is read as.
  FetchType type(size_t i) const { return ops_.at(i).type; }
  // Whether value `i` is a DWARF variable or parameter.
  bool is_dwarf(size_t i) const { return ops_.at(i).var != nullptr; }
  // Value `i` when registers at the site are all it takes (a register or the
  // part of one, the stack pointer, or, without `reg`, $pc: the site's
  // address), read as an integer of its type; nullopt when it reads memory,
  // is a string, or is located by DWARF. For conditions a trampoline
  // evaluates itself (core/filter.h).
  struct RegisterSource {
    std::optional<arch::RegisterRef> reg;
    FetchType type = FetchType::S64;
  };
  std::optional<RegisterSource> register_source(size_t i) const;

  struct Node;      // the bound expression tree
  struct Variable;  // a bound DWARF plan

 private:
  struct Op {
    std::shared_ptr<const Node> root;      // or
    std::shared_ptr<const Variable> var;
    FetchType type = FetchType::S64;
    std::string name;
    // A root typed by DWARF ($retval): how its integer prints, and its type
    // (enumerators) and --explain line.
    ValueShow show = ValueShow::Number;
    std::shared_ptr<const dwarf::ValueType> dwarf_type;
    std::string explain;
  };
  void type_return_value(const arch::Isa& isa, Op& op, dwarf::ValueType type);
  void bind_variable(const arch::Isa& isa, dwarf::VariablePlan plan, std::optional<FetchType> override_type,
                     bool lenient);
  const arch::Isa* isa_ = nullptr;
  std::vector<Op> ops_;
};

}  // namespace uptrace::core
