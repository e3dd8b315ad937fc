#pragma once
// Decoding ppc64le code: lengths and classes come from the instruction
// table (insn_table.h); the text from Capstone where Capstone 4 is right,
// and from text.h for what it misprints or does not know.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "arch/isa.h"
#include "arch/ppc64le/insn_table.h"

namespace uptrace::arch::ppc64le {

class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // The instruction at the start of `code` (4 or 8 bytes), with its class;
  // nullopt when `code` ends inside it. A word that is no instruction is
  // still returned, as ".long 0x…", with the class Undecodable.
  std::optional<Instruction> decode_one(std::span<const uint8_t> code, RuntimeAddr address,
                                        Classified* classified = nullptr) const;
  // Every instruction from `start` until the code ends: words that are no
  // instruction are listed, as objdump does, and decoding goes on after them.
  std::vector<Instruction> decode_all(std::span<const uint8_t> code, RuntimeAddr start) const;

 private:
  std::string capstone_text(std::span<const uint8_t> word, uint64_t address) const;
  size_t handle_ = 0;  // a Capstone csh, kept opaque so this header needs no Capstone
};

}  // namespace uptrace::arch::ppc64le
