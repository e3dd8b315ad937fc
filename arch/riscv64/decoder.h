#pragma once
// uptrace's own RISC-V decoder (Debian 12's Capstone 4 has none, and
// --explain -x must work on every host): lengths, the table row, and
// objdump-like text ("addi sp, sp, -16", "beqz a0, 0x1040", "ld ra, 8(sp)";
// compressed instructions print as the instruction they stand for, and
// pseudo-instructions by their alias, as objdump -d prints them).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "arch/isa.h"
#include "arch/riscv64/insn_table.h"

namespace uptrace::arch::riscv64 {

struct Decoded {
  Instruction insn;                           // address, length, bytes, text
  const InsnRow* row = nullptr;               // null: an instruction uptrace does not know
  const CompressedRow* compressed = nullptr;  // set for a known 2-byte instruction
  uint32_t word = 0;  // the 32-bit instruction, or the one a compressed instruction stands for (when row is set)

  bool known() const { return row != nullptr; }
  // The name to use in explanations: "c.j" for a compressed jump, else the row's.
  std::string_view name() const;
};

// The instruction at the start of `code`; nullopt when `code` is shorter
// than the length its first parcel announces, or that length is reserved
// (longer than 8 bytes). An unknown instruction of a known length decodes,
// without a row, as ".2byte 0x…"/".4byte 0x…" (objdump's spelling).
std::optional<Decoded> decode_one(std::span<const uint8_t> code, RuntimeAddr address);
// Linearly from `start`, until `code` ends or decode_one fails.
std::vector<Decoded> decode_all(std::span<const uint8_t> code, RuntimeAddr start);

// The text of a known 32-bit instruction `word` at `address`.
std::string format_insn(const InsnRow& row, uint32_t word, uint64_t address);

// Names used in the text.
std::string csr_name(unsigned csr);
std::string_view rounding_mode_name(unsigned rm);

}  // namespace uptrace::arch::riscv64
