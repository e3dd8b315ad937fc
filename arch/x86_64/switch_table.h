#pragma once
// Switch tables for the jump analysis: the idioms whose jump table's
// entries can be read and bounded (GCC's PIC `lea base; movsxd r, [base +
// idx*4]; add r, base; jmp r` with its bound), and the shapes where a
// target is computed from a table no such idiom bounds.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/jump_scan.h"

namespace uptrace::arch::x86_64::jump_analysis {

struct Table {
  // Empty when the idiom does not show it: the register must then be proven
  // to hold one table's address on every path to the load (see Flow).
  std::optional<uint64_t> base;
  unsigned base_reg = 0;
  uint64_t entries = 0;
  uint64_t first = 0;  // address of the idiom's first instruction
  // The bound check (cmp index, imm; ja/jae), when there is one: what a
  // second check on another path to the code right after it must compare.
  std::optional<Operand> bounded;  // the cmp's first operand
  uint64_t after_bound = 0;        // the address after the ja/jae
  uint64_t lea_at = 0;             // the idiom's lea of the base, when it has one
  size_t load_at = 0;              // where in the part the entry is loaded
  size_t sum_at = 0;               // where in the part it is added to the base
};

bool adds_table_entry(const std::vector<Scanned>& insns, size_t k, unsigned* entry_out = nullptr,
                      unsigned* base_out = nullptr);

// The switch idiom ending at the `jmp reg` at insns[k], or why it is not
// one: why_not stays empty when the jump does not look like a switch at all.
// The table address every write to register `reg` in the function and its
// parts puts there: each must be `lea reg, [rip + T]` with one T, or a pop
// (an epilogue restoring the caller's value, never followed by a switch).
// For a table base GCC hoists out of a loop or to the prologue, where the
// idiom's own instructions do not show it.
using HoistedBase = std::function<std::optional<uint64_t>(unsigned reg)>;

std::optional<Table> switch_table(const std::vector<Scanned>& insns, size_t k, std::string& why_not,
                                  const HoistedBase& hoisted);

// A switch's cases: the targets of its table's first `entries` entries,
// each relative to the table; nullopt when the table cannot be read.
std::optional<std::vector<uint64_t>> read_cases(const ImageReader& image, uint64_t base, uint64_t entries);

// Whether the target of the indirect jump at `jmp` may be computed from a
// table: on some path back from it (through fall-through and the parts'
// direct branches, up to kMaxTableWalkDepth instructions), a value loaded
// from memory reaches the jump's register through arithmetic (an add, sub,
// lea, or anything else that writes it from other registers): a relative
// jump table (`movsxd r, [t + i*4]; add r, base; jmp r`, in any order and
// with anything in between) or a computed goto's label table. Its targets
// are then no relocation's value nor any lea's, so the relocation argument
// does not cover them. Returns the load's place, or nullopt when no path
// shows one. A jump through memory (`jmp [t + i*8]`) or a register loaded
// and jumped to unchanged is not one: those go to stored addresses.
std::optional<Loc> computed_from_table(const Loc& jmp, const std::multimap<uint64_t, Loc>& branches);

}  // namespace uptrace::arch::x86_64::jump_analysis
