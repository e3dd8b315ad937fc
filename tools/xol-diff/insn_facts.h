#pragma once
// What xol-diff needs to know about one instruction beyond uptrace's own
// analysis: its length and text, where its memory operands point for a given
// register file (to snapshot that memory), and which of its results are not
// deterministic (rdtsc, rdrand). Decoded with xol-diff's own Capstone handle.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arch/isa.h"

namespace xol_diff {

struct MemoryOperand {
  uint16_t segment = 0;  // Capstone x86_reg values; 0 when absent
  uint16_t base = 0;
  uint16_t index = 0;
  int scale = 1;
  int64_t disp = 0;
  uint16_t size = 0;     // bytes accessed, 0 when Capstone does not say
  bool vsib = false;     // the index is a vector register (gather/scatter)
};

struct InsnFacts {
  uint8_t length = 0;
  std::string mnemonic;
  std::string text;
  bool address_size_32 = false;  // 0x67
  std::vector<MemoryOperand> memory;
  // Regs words whose value after the instruction is not reproducible, and
  // EFLAGS bits likewise.
  std::vector<uint16_t> nondeterministic_words;
  uint64_t nondeterministic_flags = 0;

  bool rip_relative() const;
};

class FactsDecoder {
 public:
  FactsDecoder();
  ~FactsDecoder();
  FactsDecoder(const FactsDecoder&) = delete;
  FactsDecoder& operator=(const FactsDecoder&) = delete;

  // nullopt when Capstone cannot decode the bytes.
  std::optional<InsnFacts> decode(std::span<const uint8_t> code, uint64_t address) const;
  // Only the length: the fast path of the corpus scan.
  std::optional<uint8_t> length(std::span<const uint8_t> code, uint64_t address) const;

  // The address a memory operand refers to with these registers, for an
  // instruction at `site`; nullopt for vector-indexed operands.
  std::optional<uint64_t> effective_address(const InsnFacts& facts, const MemoryOperand& op,
                                            const uptrace::arch::Regs& regs, uint64_t site) const;

 private:
  size_t handle_ = 0;  // csh
  size_t light_ = 0;   // csh without details, for length()
};

}  // namespace xol_diff
