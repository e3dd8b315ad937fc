#pragma once
// Capstone's AArch64 disassembler behind a small RAII wrapper. It supplies
// the text shown to users and says which words are valid instructions; the
// classification itself works on the word (insn_table.h).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arch/isa.h"

namespace uptrace::arch::aarch64 {

class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // The instruction at the start of `code`; nullopt when there are fewer
  // than 4 bytes or Capstone does not know the word.
  std::optional<Instruction> decode_one(std::span<const uint8_t> code, RuntimeAddr address) const;
  // Every whole 4-byte word of `code` is an instruction boundary on
  // aarch64, so decoding does not stop at a word Capstone does not know:
  // such a word is listed as ".inst 0x…" (with the table's name for it when
  // there is one, e.g. the pointer-authenticated branches Capstone 4 lacks).
  std::vector<Instruction> decode_all(std::span<const uint8_t> code, RuntimeAddr start) const;

 private:
  size_t handle_ = 0;  // a Capstone csh, kept opaque so this header needs no Capstone
};

// The text for a word Capstone cannot decode: ".inst 0xd65f0bff (retaa/retab)".
std::string undecoded_text(uint32_t word);

}  // namespace uptrace::arch::aarch64
