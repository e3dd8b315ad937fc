#pragma once
// Shared helpers for the aarch64 tests: instruction words as bytes, a fake
// target memory over a buffer, and analysis of a word placed at a site.
// Every word in these tests was cross-checked with aarch64-linux-gnu-as /
// objdump and with Capstone; the comment beside it is the disassembly.
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "arch/aarch64/aarch64_isa.h"
#include "arch/aarch64/encoding.h"
#include "arch/aarch64/registers.h"
#include "arch/isa.h"
#include "common/memory.h"

namespace uptrace::arch::aarch64::test {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kSite = 0x401000;
constexpr uint64_t kSlot = 0x7f0000001000;  // far from the site: no branch from the slot could reach it
constexpr uint64_t kDataBase = 0x401000;    // FakeMemory default range: the code and its literals

// Little-endian bytes of instruction words.
inline Bytes words(std::initializer_list<uint32_t> ws) {
  Bytes out;
  for (uint32_t w : ws)
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(w >> (8 * i)));
  return out;
}

inline const Isa& isa() { return aarch64_isa(); }

// Memory of the target: one readable range.
class FakeMemory final : public MemoryAccess {
 public:
  explicit FakeMemory(uint64_t base = kDataBase, size_t size = 0x200) : base_(base), bytes_(size, 0) {}

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

// Registers as at a probe hit: pc at the site, every x register holding a
// recognisable value (x3 = 0x0303...), BTYPE set as after an indirect branch.
inline Regs hit_regs(uint64_t site = kSite) {
  Regs r;
  for (uint16_t i = 0; i <= 30; ++i) r.words[i] = 0x0101010101010101ull * i;
  r.words[kSp] = 0x7ffff000;
  r.words[kPc] = site;
  r.words[kPstate] = pstate::kBtype & (uint64_t{1} << 10);  // BTYPE = 01
  return r;
}

}  // namespace uptrace::arch::aarch64::test
