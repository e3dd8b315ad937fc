#pragma once
// Shared helpers for the riscv64 tests: instructions as bytes, a target
// memory the emulations must not need, and analysis of code placed at a
// site. Every encoding in these tests was assembled by riscv64-linux-gnu-as
// (binutils 2.40) and its disassembly checked with objdump; the comment
// beside it is that disassembly.
#include <algorithm>
#include <cstdint>
#include <utility>
#include <initializer_list>
#include <vector>

#include "arch/isa.h"
#include "arch/riscv64/registers.h"
#include "arch/riscv64/riscv64_isa.h"
#include "common/memory.h"

namespace uptrace::arch::riscv64::test {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kSite = 0x401000;
constexpr uint64_t kSlot = 0x3f00001000;  // below Sv39's 2^38, far from the site
constexpr uint64_t kNearSlot = kSite + 0x80000;  // 512 KiB above the site: in reach of jal

// Little-endian bytes of instructions, each 2 or 4 bytes long as its low
// bits say (objdump's notation: 0x8082 is ret, 0x00008067 is ret too).
inline Bytes insns(std::initializer_list<uint32_t> raws) {
  Bytes out;
  for (uint32_t raw : raws) {
    const unsigned length = (raw & 3) == 3 ? 4 : 2;
    for (unsigned i = 0; i < length; ++i) out.push_back(static_cast<uint8_t>(raw >> (8 * i)));
  }
  return out;
}

inline const Isa& isa() { return riscv64_isa(); }

constexpr uint64_t kRing = 0x3f00100000;  // a jump ring's address in the target

// (address, instruction) pairs of code placed at `at`: 2 or 4 bytes each, as
// their low bits say.
inline std::vector<std::pair<uint64_t, uint32_t>> listing(const std::vector<uint8_t>& bytes, uint64_t at,
                                                          size_t from = 0, size_t to = SIZE_MAX) {
  std::vector<std::pair<uint64_t, uint32_t>> out;
  for (size_t i = from; i < std::min(to, bytes.size());) {
    const unsigned length = (bytes[i] & 3) == 3 ? 4 : 2;
    uint32_t w = 0;
    for (unsigned b = 0; b < length; ++b) w |= uint32_t{bytes[i + b]} << (8 * b);
    out.emplace_back(at + i, w);
    i += length;
  }
  return out;
}

// No memory at all: riscv64's emulations compute from registers only.
class NoMemory final : public MemoryAccess {
 public:
  bool read(RuntimeAddr, std::span<uint8_t>) override {
    ++reads;
    return false;
  }
  bool write(RuntimeAddr, std::span<const uint8_t>) override {
    ++writes;
    return false;
  }
  int reads = 0;
  int writes = 0;
};

// Analyse `code` as a function starting at `start`, probed at `site`
// (its first instruction by default).
inline SiteAnalysis analyze(const Bytes& code, ModeRequest request = ModeRequest::Auto, uint64_t site = kSite,
                            uint64_t start = kSite, uint64_t slot = kSlot) {
  SiteContext ctx{RuntimeAddr(start), code, RuntimeAddr(site), RuntimeAddr(slot), request,
                  StepMechanism::TrailingTrap};
  return isa().analyze(ctx);
}

// Registers as at a probe hit: pc at the site, xn = 0x0101...01 * n.
inline Regs hit_regs(uint64_t site = kSite) {
  Regs r;
  for (uint16_t i = 1; i < 32; ++i) r.words[i] = 0x0101010101010101ull * i;
  r.words[kSp] = 0x3ffffff000;
  r.words[kPc] = site;
  return r;
}

}  // namespace uptrace::arch::riscv64::test
