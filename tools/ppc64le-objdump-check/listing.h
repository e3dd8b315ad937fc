#pragma once
// An `objdump -d` listing of ppc64le code, and the comparison of uptrace's
// ppc64le decoder with it: instruction boundaries and lengths, and the
// class of every branch, trap, load-reserve, store-conditional and system
// call as objdump names it. Used by the ppc64le-objdump-check tool over a
// whole library and by the unit tests over a checked-in corpus.
#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace uptrace::tools::ppc64le_check {

// One instruction objdump printed: a prefixed one spans two lines, the
// second with bytes only.
struct ListedInsn {
  uint64_t address = 0;
  std::vector<uint8_t> bytes;  // in memory order
  std::string mnemonic;        // ".long" for a word objdump does not decode
  std::string text;            // mnemonic and operands
};

std::vector<ListedInsn> parse_listing(std::istream& in);

// The kinds the comparison distinguishes.
enum class Kind : uint8_t { Other, Branch, BranchCond, BranchLr, BranchCtr, BranchTar, Trap, LoadReserve, StoreConditional, Syscall };
std::string_view to_string(Kind k);
// What objdump's mnemonic says the instruction is.
Kind kind_of_mnemonic(std::string_view mnemonic);

struct Mismatch {
  uint64_t address;
  std::string what;
};

struct Report {
  uint64_t instructions = 0;          // objdump's
  uint64_t bytes = 0;
  uint64_t boundaries_agreed = 0;     // same start and length
  uint64_t prefixed = 0;              // 8-byte instructions among them
  std::map<Kind, uint64_t> kinds_agreed;
  std::vector<Mismatch> mismatches;   // boundaries and kinds
  uint64_t mismatch_count = 0;
};

// Decodes every run of contiguous bytes of the listing from its start with
// uptrace's decoder and compares. Keeps the first `keep` mismatches.
Report compare(const std::vector<ListedInsn>& listing, size_t keep = 50);

}  // namespace uptrace::tools::ppc64le_check
