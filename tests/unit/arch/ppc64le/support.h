#pragma once
// Shared helpers for the ppc64le tests: instruction words as bytes, a fake
// target memory over a buffer, and analysis of code placed at a site.
// Every word in these tests was assembled with powerpc64le-linux-gnu-as
// -mpower10 and checked with powerpc64le-linux-gnu-objdump -d; the comment
// beside it is objdump's disassembly (at the address the test uses).
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "arch/ppc64le/ppc64le_isa.h"
#include "arch/ppc64le/registers.h"
#include "common/memory.h"

namespace uptrace::arch::ppc64le::test {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kSite = 0x10001000;
constexpr uint64_t kSlot = 0x7fff80001000;  // far from the site, 16-byte aligned
constexpr uint64_t kDataBase = 0x10001000;  // FakeMemory default range: the code and its data

// Little-endian bytes of instruction words.
inline Bytes words(std::initializer_list<uint32_t> ws) {
  Bytes out;
  for (uint32_t w : ws)
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(w >> (8 * i)));
  return out;
}

inline Bytes words(const std::vector<uint32_t>& ws) {
  Bytes out;
  for (uint32_t w : ws)
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(w >> (8 * i)));
  return out;
}

inline const Isa& isa() { return ppc64le_isa(); }

// Memory of the target: one readable range.
class FakeMemory final : public MemoryAccess {
 public:
  explicit FakeMemory(uint64_t base = kDataBase, size_t size = 0x400) : base_(base), bytes_(size, 0) {}

  bool read(RuntimeAddr addr, std::span<uint8_t> out) override {
    if (!readable || !inside(addr.value, out.size())) return false;
    std::memcpy(out.data(), bytes_.data() + (addr.value - base_), out.size());
    return true;
  }
  bool write(RuntimeAddr addr, std::span<const uint8_t> in) override {
    if (!inside(addr.value, in.size())) return false;
    std::memcpy(bytes_.data() + (addr.value - base_), in.data(), in.size());
    return true;
  }
  void put_u64(uint64_t addr, uint64_t v) {
    for (size_t i = 0; i < 8; ++i) bytes_.at(addr - base_ + i) = static_cast<uint8_t>(v >> (8 * i));
  }

  bool readable = true;

 private:
  bool inside(uint64_t addr, size_t n) const { return addr >= base_ && addr + n <= base_ + bytes_.size(); }
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

// Analyse `code` as a function at `site` whose probe is its first instruction.
inline SiteAnalysis analyze(const Bytes& code, uint64_t site = kSite, ModeRequest request = ModeRequest::Auto,
                            uint64_t slot = kSlot) {
  SiteContext ctx{RuntimeAddr(site), code, RuntimeAddr(site), RuntimeAddr(slot), request};
  return isa().analyze(ctx);
}

// Registers as at a probe hit: pc at the site, every GPR holding a
// recognisable value (r3 = 0x0303...), LR and CTR too.
inline Regs hit_regs(uint64_t site = kSite) {
  Regs r;
  for (uint16_t i = 0; i <= 31; ++i) r.words[i] = 0x0101010101010101ull * i;
  r.words[kSp] = 0x7ffff000;
  r.words[kNip] = site;
  r.words[kLink] = 0x10000500;
  r.words[kCtr] = 5;
  r.words[kCcr] = 0;
  return r;
}

}  // namespace uptrace::arch::ppc64le::test
