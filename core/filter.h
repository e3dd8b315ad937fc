#pragma once
// A probe's condition (`if COND`, common/condition.h) bound to an ISA and to
// the probe's fetch arguments: evaluated by uptrace on each hit at a stop,
// or handed to a jump trampoline (arch::JumpFilter), which evaluates it
// itself when registers are all it reads. A hit whose condition is false is
// neither reported nor counted.
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "common/condition.h"
#include "common/dwarf_plan.h"
#include "common/memory.h"
#include "core/fetch_program.h"

namespace uptrace::core {

class Filter {
 public:
  Filter() = default;  // no condition: every hit is kept

  // Operands that name an argument read its value from `args`; the others
  // are bound as FetchProgram binds fetch arguments (`variables`: the site's
  // DWARF scope; without it DWARF operands are only checked for syntax, to
  // validate a command line, and such a filter is never evaluated). Throws
  // Error(Usage) naming `probe_text` and the column for what only binding
  // can tell (a DWARF-typed operand compared with the wrong kind of
  // literal), and what FetchProgram throws.
  Filter(const arch::Isa& isa, const Condition& condition, const FetchProgram& args, const std::string& probe_text,
         bool is_return_probe, const VariableSource* variables = nullptr);

  bool empty() const { return root_ == nullptr; }
  // Whether the hit is kept: `arg_values` are what `args` evaluated to at
  // this hit; the condition's own operands are evaluated here against
  // `regs`, `pc` and `mem`. A comparison with an unreadable value is false.
  bool keep(std::span<const FetchedValue> arg_values, const arch::Regs& regs, uint64_t pc, MemoryAccess& mem) const;
  // Whether an operand of its own reads a stack slot the prologue fills
  // (FetchProgram::reads_frame_slots).
  bool reads_frame_slots() const { return own_.reads_frame_slots(); }

  // For jump mode: the condition as the trampoline evaluates it, or why it
  // cannot (a string, a memory read, a DWARF variable).
  struct ForTrampoline {
    std::optional<arch::JumpFilter> filter;
    std::string why_not;
  };
  ForTrampoline for_trampoline() const;

  struct Node;

 private:
  std::shared_ptr<const Node> root_;
  FetchProgram own_;  // the operands that are not arguments of the probe
  // keep()'s evaluation of own_, kept to reuse its memory.
  mutable std::vector<FetchedValue> own_values_;
};

}  // namespace uptrace::core
