#pragma once
// The ppc64 instruction classes that cannot be stepped out of line as they
// are: refused ones, and ones that are emulated or rewritten. Each row is a
// mask/value pattern over the 32-bit instruction word (for a prefixed
// instruction, over the prefix and the suffix), a class and the reason.
// Anything that matches no row is stepped in the slot, pc relocated after.
// Matching is on the words themselves, not on Capstone's decoding: Capstone
// 4 misnames some branches (bcl 20,31,$+4 as bdnzl) and knows nothing of
// ISA 3.0/3.1 (addpcis, scv, the prefixed instructions).
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace uptrace::arch::ppc64le {

enum class InsnClass : uint8_t {
  Trap,              // refused: tw, td, twi, tdi with any TO (the program's, a debugger's, ours)
  Syscall,           // refused: sc, scv
  LoadReserve,       // refused: l[bhwdq]arx, which opens a reservation
  StoreConditional,  // refused: st[bhwdq]cx., which closes it
  Refused,           // refused for the row's reason (privileged, mode-changing)
  Undecodable,       // refused: no instruction
  Plain,             // stepped, pc relocated (what unlisted instructions get)
  Branch,            // b, ba, bl, bla
  BranchCond,        // bc, bca, bcl, bcla (and the pc-read idiom bcl 20,31,$+4)
  BranchLr,          // bclr, bclrl
  BranchCtr,         // bcctr, bcctrl
  BranchTar,         // bctar, bctarl
  Addpcis,           // addpcis (lnia)
  PcRelLoad,         // prefixed pc-relative load into a GPR: pld, plwa, plwz, plhz, plha, plbz
  PcRelAddi,         // paddi with R=1 (pla)
  PcRelOther,        // other prefixed pc-relative forms: stores, FP/vector loads, plq/pstq
};

struct InsnRow {
  std::string_view name;  // "bc", "lwarx"
  uint32_t mask = 0;
  uint32_t value = 0;
  InsnClass cls = InsnClass::Plain;
  // For a refusal, the phrase shown to the user; otherwise why the class
  // needs its special handling.
  std::string_view reason;

  bool matches(uint32_t word) const { return (word & mask) == value; }
};

// A prefixed (8-byte) instruction form: the prefix's type and the suffix's
// primary opcode, as ISA 3.1 allocates them.
struct PrefixedRow {
  std::string_view name;  // "pld"
  uint32_t prefix_mask = 0;
  uint32_t prefix_value = 0;
  uint32_t suffix_mask = 0;
  uint32_t suffix_value = 0;
  bool has_displacement = false;  // 8LS/MLS D-form: may be pc-relative (R=1)
  InsnClass pc_relative_class = InsnClass::Plain;  // its class when R=1

  bool matches(uint32_t prefix, uint32_t suffix) const {
    return (prefix & prefix_mask) == prefix_value && (suffix & suffix_mask) == suffix_value;
  }
};

// All rows, in match order (the first match wins).
std::span<const InsnRow> insn_rows();
std::span<const PrefixedRow> prefixed_rows();

// The first row a (non-prefix) word matches, or null for a plain instruction.
const InsnRow* classify(uint32_t word);
// The form of a prefixed pair, or null when the pair is no instruction.
const PrefixedRow* classify_prefixed(uint32_t prefix, uint32_t suffix);

// What the decoder learns about the instruction at one address.
struct Classified {
  uint8_t length = 4;          // 4, or 8 for a valid prefixed pair
  InsnClass cls = InsnClass::Plain;
  std::string_view name;       // the row's name, empty for a plain word
  std::string_view reason;
};
// `code` starts at the instruction; `address` says where (a prefixed
// instruction may not cross a 64-byte boundary). A prefix word whose pair
// is not valid is one undecodable 4-byte word; one that crosses the
// boundary is an 8-byte undecodable instruction.
Classified classify_at(std::span<const uint8_t> code, uint64_t address);

bool is_refused_class(InsnClass cls);
bool is_branch_class(InsnClass cls);

}  // namespace uptrace::arch::ppc64le
