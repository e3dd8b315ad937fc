#pragma once
// Cross-checks uptrace's RISC-V decoder against GNU objdump: given the text
// of `riscv64-linux-gnu-objdump -d` (binutils 2.40, Debian 12), the bytes of
// each run of consecutive instructions are decoded again by uptrace, from the
// run's start, and compared with objdump's listing: instruction boundaries
// and lengths, the class of every branch, jump, auipc, SYSTEM instruction,
// load-reserved and store-conditional, and the text (normalised: spacing,
// objdump's symbol comments, and binutils 2.40's spelling of the immediate
// forms, "add a0,a0,1" for addi and "sll a0,a0,0x2" for slli).
// Used by the unit tests on a checked-in corpus and by
// tests/cross/riscv64-objdump-check.sh on a whole libc.so.6.
#include <cstddef>
#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace uptrace::arch::riscv64::test {

// The classes compared; "other" is every instruction in none of them.
enum class Category : uint8_t { Branch, Jump, Auipc, System, Lr, Sc, Other, Unknown };
const char* to_string(Category c);

// One instruction line of objdump's output.
struct ObjdumpLine {
  uint64_t address = 0;
  unsigned length = 0;
  uint64_t value = 0;     // the instruction as objdump prints its bytes (little-endian value)
  std::string mnemonic;   // "beqz"
  std::string operands;   // "a1,27606 <abort@@GLIBC_2.27+0x98>"
};

// Parses "   27500:\t1141                \taddi\tsp,sp,-16"; false for
// any other line (headers, labels, blank).
bool parse_objdump_line(const std::string& line, ObjdumpLine& out);

Category objdump_category(const std::string& mnemonic);
// objdump's text made comparable with uptrace's: no comment or symbol, no
// spaces, no 0x (objdump prints branch targets without it), and binutils
// 2.40's immediate-form spellings turned into the standard ones.
std::string normalise_objdump(const ObjdumpLine& line);
std::string normalise_uptrace(const std::string& text);

struct Mismatch {
  uint64_t address = 0;
  std::string what;  // one line: what differs, with both sides
};

struct CheckReport {
  size_t objdump_insns = 0;   // instruction lines objdump printed
  size_t uptrace_insns = 0;   // instructions uptrace decoded over the same runs
  size_t runs = 0;            // runs of consecutive instructions (a gap starts a new one)
  size_t boundary_mismatches = 0;  // objdump instructions with no uptrace instruction at the same address and length
  size_t class_mismatches = 0;
  size_t text_mismatches = 0;
  size_t unknown = 0;             // instructions uptrace does not know
  size_t objdump_unknown = 0;     // ".2byte"/".4byte" lines objdump printed
  // Differences that are deliberate (documented_difference), by reason;
  // they are not counted as mismatches.
  std::map<std::string, size_t> documented;
  std::map<Category, size_t> objdump_by_category;
  std::map<Category, size_t> agreed_by_category;
  std::vector<Mismatch> examples;  // the first few of each kind

  bool boundaries_and_classes_agree() const { return boundary_mismatches == 0 && class_mismatches == 0; }
};

// Reads objdump's whole output from `in`.
CheckReport check_objdump(std::istream& in, size_t max_examples = 20);
std::string summary(const CheckReport& r);

}  // namespace uptrace::arch::riscv64::test
