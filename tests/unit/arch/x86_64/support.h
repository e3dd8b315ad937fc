#pragma once
// Shared helpers for the x86-64 tests: a fake target memory over a buffer,
// and analysis of a byte string placed at a site.
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "arch/x86_64/decoder.h"
#include "arch/x86_64/registers.h"
#include "arch/x86_64/x86_64_isa.h"
#include "common/memory.h"

namespace uptrace::arch::x86_64::test {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kSite = 0x401000;
constexpr uint64_t kNearSlot = 0x402000;          // within ±2 GB of the site
constexpr uint64_t kFarSlot = 0x7f0000001000;     // far beyond
constexpr uint64_t kStackBase = 0x7ffd0000;       // FakeMemory default range
constexpr uint64_t kStackTop = kStackBase + 0x80; // a starting rsp inside it

// "48 89 e5", for test messages.
inline std::string hex_bytes(const Bytes& code) {
  std::string out;
  static const char kDigits[] = "0123456789abcdef";
  for (uint8_t b : code) {
    if (!out.empty()) out += ' ';
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

inline const Isa& isa() { return x86_64_isa(); }

// Memory of the target: one readable/writable range.
class FakeMemory final : public MemoryAccess {
 public:
  explicit FakeMemory(uint64_t base = kStackBase, size_t size = 0x100) : base_(base), bytes_(size, 0) {}

  bool read(RuntimeAddr addr, std::span<uint8_t> out) override {
    if (!readable || !inside(addr.value, out.size())) return false;
    std::memcpy(out.data(), bytes_.data() + (addr.value - base_), out.size());
    return true;
  }
  bool write(RuntimeAddr addr, std::span<const uint8_t> in) override {
    if (!writable || !inside(addr.value, in.size())) return false;
    std::memcpy(bytes_.data() + (addr.value - base_), in.data(), in.size());
    return true;
  }

  uint64_t u64(uint64_t addr) const {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | bytes_.at(addr - base_ + static_cast<size_t>(i));
    return v;
  }
  uint16_t u16(uint64_t addr) const {
    return static_cast<uint16_t>(bytes_.at(addr - base_) | bytes_.at(addr - base_ + 1) << 8);
  }
  void put_u64(uint64_t addr, uint64_t v) {
    for (size_t i = 0; i < 8; ++i) bytes_.at(addr - base_ + i) = static_cast<uint8_t>(v >> (8 * i));
  }

  bool readable = true;
  bool writable = true;

 private:
  bool inside(uint64_t addr, size_t n) const { return addr >= base_ && addr + n <= base_ + bytes_.size(); }
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

// Analyse `code` as a one-instruction function at `site` with its slot at `slot`.
inline SiteAnalysis analyze(const Bytes& code, uint64_t site = kSite, uint64_t slot = kNearSlot,
                            ModeRequest request = ModeRequest::Auto) {
  SiteContext ctx{RuntimeAddr(site), code, RuntimeAddr(site), RuntimeAddr(slot), request};
  return isa().analyze(ctx);
}

inline Decoded decode_one(const Bytes& code, uint64_t at = kSite) {
  static const Decoder decoder;
  auto d = decoder.decode_one(code, RuntimeAddr(at));
  if (!d) throw std::runtime_error("test bytes do not decode");
  return *d;
}

// Registers as at a probe hit: pc at the site, a stack in FakeMemory.
inline Regs hit_regs(uint64_t site = kSite) {
  Regs r;
  r.words[kRip] = site;
  r.words[kRsp] = kStackTop;
  r.words[kEflags] = 0x202;  // IF and the always-set bit 1
  return r;
}

}  // namespace uptrace::arch::x86_64::test
