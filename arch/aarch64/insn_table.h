#pragma once
// The aarch64 instruction classes that cannot be stepped out of line as they
// are: refused ones, and ones that are emulated or need a fixup. Each row is
// a mask/value pattern over the 32-bit instruction word, a class and the
// reason. Anything that matches no row is stepped in the slot with pc
// relocated. Matching is on the word itself, not on Capstone's decoding,
// because Capstone 4 does not know several of the forms that matter
// (pointer-authenticated branches, udf, casp).
#include <cstdint>
#include <span>
#include <string_view>

namespace uptrace::arch::aarch64 {

enum class InsnClass : uint8_t {
  Trap,           // refused: a breakpoint instruction of some variant
  Refused,        // refused for the row's reason
  Plain,          // stepped, pc relocated (what unlisted instructions get)
  B,              // b imm26
  Bl,             // bl imm26
  BCond,          // b.cond / bc.cond imm19
  Cbz,            // cbz/cbnz
  Tbz,            // tbz/tbnz
  Adr,            // adr
  Adrp,           // adrp
  LdrLiteral,     // ldr w/x, ldrsw (literal)
  FpLiteral,      // ldr s/d/q (literal)
  PrfmLiteral,    // prfm (literal)
  Br,             // br
  Blr,            // blr
  Ret,            // ret {xN}
  AuthBranch,     // braa/brab/braaz/brabz/retaa/retab
  AuthCall,       // blraa/blrab/blraaz/blrabz
  Skip,           // nop, bti: pc moves past
  Step,           // a hint or system instruction that is stepped (listed for its reason)
};

struct InsnRow {
  std::string_view name;  // "b.cond", "ldxr family"
  uint32_t mask = 0;
  uint32_t value = 0;
  InsnClass cls = InsnClass::Plain;
  // For a refusal, the phrase shown to the user; otherwise why the class
  // needs its special handling.
  std::string_view reason;

  bool matches(uint32_t word) const { return (word & mask) == value; }
  // A row for one exact word names the instruction fully (used for display
  // where Capstone 4 prints "hint #N").
  bool exact() const { return mask == 0xffffffff; }
};

// All rows, in match order (the first match wins).
std::span<const InsnRow> insn_rows();

// The first row the word matches, or null for a plain instruction.
const InsnRow* classify(uint32_t word);

// Exclusive loads (ldxr, ldaxr, ldxp, ldaxp and their b/h forms) and stores
// (stxr, stlxr, stxp, stlxp, ...): what opens and closes an exclusive
// sequence. casp, cas and the load-acquire/store-release forms share the
// encoding group but are single atomic instructions and are not included.
bool is_load_exclusive(uint32_t word);
bool is_store_exclusive(uint32_t word);

}  // namespace uptrace::arch::aarch64
