#pragma once
// The disassembly uptrace prints for the instructions it classifies itself:
// branches (Capstone 4 misnames some, e.g. bcl 20,31,$+4 as bdnzl), the
// ISA 3.0/3.1 forms Capstone 4 does not know (addpcis, scv, the prefixed
// instructions), and words that are no instruction. Close to objdump's
// style, with targets as absolute addresses.
#include <cstdint>
#include <optional>
#include <string>

#include "arch/ppc64le/insn_table.h"

namespace uptrace::arch::ppc64le {

// b, bc, bclr, bcctr, bctar at `site`, with the extended mnemonics for the
// common BO values ("beq cr7,0x1020", "bdnz+ 0x1000", "blr", "bctrl").
std::string branch_text(uint32_t word, uint64_t site);
// addpcis / lnia, scv; nullopt for other words.
std::optional<std::string> isa3_text(uint32_t word);
// A prefixed instruction (its row), at `site`.
std::string prefixed_text(const PrefixedRow& row, uint32_t prefix, uint32_t suffix, uint64_t site);
// ".long 0x00000000 (opcode 0)": a word no decoder knows, with the row's name.
std::string undecoded_text(uint32_t word, std::string_view row_name);

}  // namespace uptrace::arch::ppc64le
