#pragma once
// Capstone behind a small RAII wrapper, plus what the analysis needs to know
// about one instruction in Capstone-free types.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "arch/x86_64/encoding.h"

namespace uptrace::arch::x86_64 {

struct Operand {
  enum class Kind : uint8_t { Register, Immediate, Memory };
  Kind kind = Kind::Register;
  std::string reg;   // Register: its name; Memory: the base register's name ("rip"), or empty
  int64_t value = 0; // Immediate: the value; Memory: the displacement
  uint8_t size = 0;  // bytes
  // Memory: the index register's name (or empty) and its scale, and the
  // segment override ("fs", "gs"; empty without one).
  std::string index;
  uint8_t scale = 1;
  std::string segment;
};

struct Decoded {
  Instruction insn;
  std::string mnemonic;
  Encoding enc;
  std::vector<Operand> operands;
  // Bit n set: general-purpose register number n is read or written,
  // explicitly or implicitly (Capstone's cs_regs_access).
  uint16_t gprs_accessed = 0;
  // Bit n set: general-purpose register n is written (all set when Capstone
  // cannot say).
  uint16_t gprs_written = 0;

  // Whether a memory operand is addressed relative to rip (or eip, with 0x67).
  bool rip_relative() const;
};

class Decoder {
 public:
  Decoder();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // The instruction at the start of `code`; nullopt when Capstone cannot decode it.
  std::optional<Decoded> decode_one(std::span<const uint8_t> code, RuntimeAddr address) const;
  // The same with only the instruction's address, length, bytes and
  // encoding (no text, operands or registers): for scans of whole modules.
  std::optional<Decoded> decode_shape(std::span<const uint8_t> code, RuntimeAddr address) const;
  // Linear decode until `code` ends or an undecodable byte.
  std::vector<Instruction> decode_all(std::span<const uint8_t> code, RuntimeAddr start) const;

 private:
  size_t handle_ = 0;  // a Capstone csh, kept opaque so this header needs no Capstone
  // decode_one's cs_insn, made once: whole modules are decoded (jump
  // analysis), and an instruction with its detail allocated per call cost
  // seconds per module under ASan. So one Decoder is not for two threads.
  void* insn_ = nullptr;
};

}  // namespace uptrace::arch::x86_64
