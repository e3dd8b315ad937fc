#pragma once
// The ppc64 words jump trampolines are made of (jump.cpp): one encoder per
// instruction form they use, the word list with its branches patched once
// their targets are known, and the frame the trampoline saves registers in.
// Each encoding is checked against powerpc64le-linux-gnu-objdump in
// tests/unit/arch/ppc64le/test_jump.cpp.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "arch/ppc64le/encoding.h"

namespace uptrace::arch::ppc64le::p64 {

inline uint32_t d_form(uint32_t opcode, uint8_t t, uint8_t a, uint32_t imm16) {
  return opcode << 26 | uint32_t{t} << 21 | uint32_t{a} << 16 | (imm16 & 0xffff);
}
inline uint32_t x_form(uint32_t xo, uint8_t t, uint8_t a, uint8_t b) {
  return 31u << 26 | uint32_t{t} << 21 | uint32_t{a} << 16 | uint32_t{b} << 11 | xo << 1;
}
inline uint32_t addi(uint8_t t, uint8_t a, int32_t si) { return d_form(14, t, a, static_cast<uint32_t>(si)); }
inline uint32_t li(uint8_t t, int32_t si) { return addi(t, 0, si); }
inline uint32_t lis(uint8_t t, uint16_t hi) { return d_form(15, t, 0, hi); }  // addis rT, 0, hi
inline uint32_t ori(uint8_t a, uint8_t s, uint16_t ui) { return d_form(24, s, a, ui); }
inline uint32_t oris(uint8_t a, uint8_t s, uint16_t ui) { return d_form(25, s, a, ui); }
inline uint32_t ld(uint8_t t, uint8_t a, int32_t ds) { return d_form(58, t, a, static_cast<uint32_t>(ds) & 0xfffc); }
inline uint32_t std_(uint8_t s, uint8_t a, int32_t ds) { return d_form(62, s, a, static_cast<uint32_t>(ds) & 0xfffc); }
inline uint32_t or_(uint8_t a, uint8_t s, uint8_t b, bool rc = false) { return x_form(444, s, a, b) | uint32_t{rc}; }
inline uint32_t mr(uint8_t a, uint8_t s) { return or_(a, s, s); }
inline uint32_t add(uint8_t t, uint8_t a, uint8_t b) { return x_form(266, t, a, b); }
inline uint32_t subf(uint8_t t, uint8_t a, uint8_t b) { return x_form(40, t, a, b); }  // rT = rB - rA
inline uint32_t ldarx(uint8_t t, uint8_t a, uint8_t b) { return x_form(84, t, a, b); }
inline uint32_t stdcx(uint8_t s, uint8_t a, uint8_t b) { return x_form(214, s, a, b) | 1; }  // stdcx.
constexpr uint32_t kLwsync = 0x7c2004ac;
constexpr uint32_t kSc = 0x44000002;
constexpr uint32_t kNop = 0x60000000;  // ori 0,0,0
constexpr uint32_t kB = 0x48000000;
constexpr uint32_t kAbsoluteBit = 2, kLinkBit = 1;  // AA, LK of b and bc
// bc on one bit of CR0: BO 4 (branch if clear) or 12 (if set), BI 0 (LT),
// 1 (GT) or 2 (EQ).
constexpr uint32_t kBne = 0x40820000;
constexpr uint32_t kBeq = 0x41820000;
constexpr uint32_t kBge = 0x40800000;
constexpr uint32_t kBlt = 0x41800000;
constexpr uint32_t kBle = 0x40810000;
constexpr uint32_t kBgt = 0x41810000;

// MD-form rotates: the 6-bit mask bound is stored as its low five bits
// then its high bit, the 6-bit shift as its low five bits with the high
// bit apart (ISA 3.1 3.3.14.2).
inline uint32_t md_form(uint32_t xo, uint8_t a, uint8_t s, unsigned sh, unsigned m, bool rc = false) {
  return 30u << 26 | uint32_t{s} << 21 | uint32_t{a} << 16 | (sh & 0x1f) << 11 | ((m & 0x1f) << 1 | m >> 5) << 5 |
         xo << 2 | (sh >> 5) << 1 | uint32_t{rc};
}
inline uint32_t rldicl(uint8_t a, uint8_t s, unsigned sh, unsigned mb, bool rc = false) {
  return md_form(0, a, s, sh, mb, rc);
}
inline uint32_t rldicr(uint8_t a, uint8_t s, unsigned sh, unsigned me) { return md_form(1, a, s, sh, me); }
inline uint32_t rldic(uint8_t a, uint8_t s, unsigned sh, unsigned mb) { return md_form(2, a, s, sh, mb); }
inline uint32_t sldi(uint8_t a, uint8_t s, unsigned n) { return rldicr(a, s, n, 63 - n); }
inline uint32_t srdi_dot(uint8_t a, uint8_t s, unsigned n) { return rldicl(a, s, (64 - n) % 64, n, true); }

// Special registers: mfspr/mtspr split the SPR number into two halves.
inline uint32_t spr_field(unsigned spr) { return (spr & 0x1f) << 16 | (spr >> 5) << 11; }
inline uint32_t mfspr(uint8_t t, unsigned spr) { return 0x7c0002a6 | uint32_t{t} << 21 | spr_field(spr); }
inline uint32_t mtspr(unsigned spr, uint8_t s) { return 0x7c0003a6 | uint32_t{s} << 21 | spr_field(spr); }
constexpr unsigned kSprXer = 1, kSprLr = 8, kSprCtr = 9, kSprTb = 268;
inline uint32_t sradi(uint8_t a, uint8_t s, unsigned n) {
  return 0x7c000674 | uint32_t{s} << 21 | uint32_t{a} << 16 | (n & 0x1f) << 11 | (n >> 5) << 1;
}
// cmpd / cmpld cr0, rA, rB; cmpdi cr0, rA, SI.
inline uint32_t cmpd(uint8_t a, uint8_t b) { return 0x7c200000 | uint32_t{a} << 16 | uint32_t{b} << 11; }
inline uint32_t cmpld(uint8_t a, uint8_t b) { return 0x7c200040 | uint32_t{a} << 16 | uint32_t{b} << 11; }
inline uint32_t cmpdi(uint8_t a, int16_t si) { return d_form(11, 1, a, static_cast<uint16_t>(si)); }
inline uint32_t mfcr(uint8_t t) { return 0x7c000026 | uint32_t{t} << 21; }
inline uint32_t mtcr(uint8_t s) { return 0x7c0ff120 | uint32_t{s} << 21; }  // mtcrf 0xff, rS

// The trampoline's words. A Label collects the branches (b, bc) to one
// place not emitted yet; bind() points them there.
class Words {
 public:
  struct Label {
    std::vector<size_t> uses;
  };
  explicit Words(uint64_t at) : at_(at) {}
  size_t put(uint32_t w) {
    words_.push_back(w);
    return words_.size() - 1;
  }
  void put(uint32_t branch, Label& label) { label.uses.push_back(put(branch)); }
  size_t size() const { return words_.size(); }
  uint64_t here() const { return at_ + kWordSize * words_.size(); }
  // Points the branch at `index` to the word at index `target` (b: 24-bit
  // word offset, bc: 14-bit; a trampoline is far smaller than either).
  void bind(size_t index, size_t target) {
    const int64_t offset = (static_cast<int64_t>(target) - static_cast<int64_t>(index)) * int64_t{kWordSize};
    uint32_t& w = words_[index];
    w = primary_opcode(w) == 18 ? (w & ~0x03fffffcu) | (static_cast<uint32_t>(offset) & 0x03fffffc)
                                : (w & ~0x0000fffcu) | (static_cast<uint32_t>(offset) & 0x0000fffc);
  }
  void bind(Label& label) {
    for (size_t use : label.uses) bind(use, size());
    label.uses.clear();
  }
  // The fewest of li/lis/ori/sldi/oris that make `value` in rD (rD is not
  // r0's "zero" role: lis and li take RA = 0 as the literal 0, which is
  // what they need). None of them touches CR or XER.
  void mov_imm(uint8_t d, uint64_t value) {
    const auto v = static_cast<int64_t>(value);
    if (v >= -0x8000 && v < 0x8000) {
      put(li(d, static_cast<int32_t>(v)));
      return;
    }
    if (v >= -(int64_t{1} << 31) && v < (int64_t{1} << 31)) {
      put(lis(d, static_cast<uint16_t>(value >> 16)));
      if (value & 0xffff) put(ori(d, d, static_cast<uint16_t>(value)));
      return;
    }
    // The high half first (its sign extension is shifted out), then the low.
    const auto high = static_cast<uint32_t>(value >> 32);
    if (high < 0x8000) {
      put(li(d, static_cast<int32_t>(high)));
    } else {
      put(lis(d, static_cast<uint16_t>(high >> 16)));
      if (high & 0xffff) put(ori(d, d, static_cast<uint16_t>(high)));
    }
    put(sldi(d, d, 32));
    if (value >> 16 & 0xffff) put(oris(d, d, static_cast<uint16_t>(value >> 16)));
    if (value & 0xffff) put(ori(d, d, static_cast<uint16_t>(value)));
  }
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out;
    for (uint32_t w : words_) {
      const auto b = word_bytes(w);
      out.insert(out.end(), b.begin(), b.end());
    }
    return out;
  }

 private:
  uint64_t at_;
  std::vector<uint32_t> words_;
};

// The frame a trampoline builds first, below the site's r1 and below the
// 288 bytes under it that ELFv2 reserves for the function's own use (r1
// moves by kFrame, 16-aligned, so a signal frame would go below it too):
// what `sc` may change (r0, r3-r12, CR, CTR, XER; the kernel's syscall ABI)
// at these offsets from the moved r1, and the conditions' kept records
// (their mask and count) across the sc. Every other register keeps its
// value.
constexpr int32_t kProtectedZone = 288;
constexpr int32_t kSaveArea = 128;
constexpr int32_t kFrame = kProtectedZone + kSaveArea;
static_assert(kFrame % 16 == 0);
constexpr int32_t gpr_slot(uint8_t r) { return r == 0 ? 0 : 8 * (r - 2); }  // r0, r3..r12
constexpr int32_t kCrSlot = 88, kCtrSlot = 96, kXerSlot = 104, kMaskSlot = 112, kCountSlot = 120;

// Loads register word `word`'s value at the site into r9; false for a word
// the trampoline cannot read (msr and the kernel's own words).
constexpr uint8_t kValue = 9;
bool load_site_word(Words& c, uint16_t word, uint64_t site);

}  // namespace uptrace::arch::ppc64le::p64
