#pragma once
// The A64 words jump trampolines are made of (jump.cpp, jump_filter.cpp):
// one encoder per instruction form they use, and the word list with the
// branches patched once their targets are known. Each encoding is checked
// against aarch64-linux-gnu-objdump in tests/unit/arch/aarch64/test_jump*.cpp.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "arch/aarch64/encoding.h"

namespace uptrace::arch::aarch64::a64 {

constexpr uint8_t kSp31 = 31;  // sp (or xzr) in a register field


inline uint32_t stp_pre(uint8_t t1, uint8_t t2, int32_t offset) {  // stp xT1, xT2, [sp, #offset]!
  return 0xa9800000 | (static_cast<uint32_t>(offset / 8) & 0x7f) << 15 | uint32_t{t2} << 10 | kSp31 << 5 | t1;
}
inline uint32_t stp(uint8_t t1, uint8_t t2, int32_t offset) {  // stp xT1, xT2, [sp, #offset]
  return 0xa9000000 | (static_cast<uint32_t>(offset / 8) & 0x7f) << 15 | uint32_t{t2} << 10 | kSp31 << 5 | t1;
}
inline uint32_t ldp(uint8_t t1, uint8_t t2, int32_t offset) {  // ldp xT1, xT2, [sp, #offset]
  return 0xa9400000 | (static_cast<uint32_t>(offset / 8) & 0x7f) << 15 | uint32_t{t2} << 10 | kSp31 << 5 | t1;
}
inline uint32_t ldp_post(uint8_t t1, uint8_t t2, int32_t offset) {  // ldp xT1, xT2, [sp], #offset
  return 0xa8c00000 | (static_cast<uint32_t>(offset / 8) & 0x7f) << 15 | uint32_t{t2} << 10 | kSp31 << 5 | t1;
}
inline uint32_t ldr(uint8_t t, uint8_t n, uint32_t offset) {  // ldr xT, [xN, #offset]
  return 0xf9400000 | (offset / 8) << 10 | uint32_t{n} << 5 | t;
}
inline uint32_t str(uint8_t t, uint8_t n, uint32_t offset) {  // str xT, [xN, #offset]
  return 0xf9000000 | (offset / 8) << 10 | uint32_t{n} << 5 | t;
}
inline uint32_t ldar(uint8_t t, uint8_t n) { return 0xc8dffc00 | uint32_t{n} << 5 | t; }
inline uint32_t ldaxr(uint8_t t, uint8_t n) { return 0xc85ffc00 | uint32_t{n} << 5 | t; }
inline uint32_t stlxr(uint8_t s, uint8_t t, uint8_t n) { return 0xc800fc00 | uint32_t{s} << 16 | uint32_t{n} << 5 | t; }
inline uint32_t stlr(uint8_t t, uint8_t n) { return 0xc89ffc00 | uint32_t{n} << 5 | t; }
inline uint32_t add_imm(uint8_t d, uint8_t n, uint32_t imm12, bool shift12 = false) {
  return 0x91000000 | uint32_t{shift12} << 22 | imm12 << 10 | uint32_t{n} << 5 | d;
}
inline uint32_t add_lsl(uint8_t d, uint8_t n, uint8_t m, uint32_t shift) {  // add xD, xN, xM, lsl #shift
  return 0x8b000000 | uint32_t{m} << 16 | shift << 10 | uint32_t{n} << 5 | d;
}
inline uint32_t sub(uint8_t d, uint8_t n, uint8_t m) { return 0xcb000000 | uint32_t{m} << 16 | uint32_t{n} << 5 | d; }
inline uint32_t lsr(uint8_t d, uint8_t n, uint32_t shift) {  // ubfm xD, xN, #shift, #63
  return 0xd340fc00 | shift << 16 | uint32_t{n} << 5 | d;
}
inline uint32_t and_low_ones(uint8_t d, uint8_t n, uint32_t ones) {  // and xD, xN, #(1 << ones) - 1
  return 0x92400000 | (ones - 1) << 10 | uint32_t{n} << 5 | d;
}
inline uint32_t orr_bit63(uint8_t d, uint8_t n) {  // orr xD, xN, #0x8000000000000000
  return 0xb2410000 | uint32_t{n} << 5 | d;
}
inline uint32_t mov(uint8_t d, uint8_t m) { return 0xaa0003e0 | uint32_t{m} << 16 | d; }  // orr xD, xzr, xM
inline uint32_t movz(uint8_t d, uint16_t imm, unsigned hw) { return 0xd2800000 | hw << 21 | uint32_t{imm} << 5 | d; }
inline uint32_t movk(uint8_t d, uint16_t imm, unsigned hw) { return 0xf2800000 | hw << 21 | uint32_t{imm} << 5 | d; }
constexpr uint32_t kMrsCntvct = 0xd53be040;  // mrs x0, cntvct_el0
constexpr uint32_t kMrsTpidr = 0xd53bd040;   // mrs x0, tpidr_el0
constexpr uint32_t kSvc0 = 0xd4000001;
constexpr uint32_t kB = 0x14000000;
inline uint32_t cbnz_x(uint8_t t) { return 0xb5000000 | t; }
inline uint32_t cbnz_w(uint8_t t) { return 0x35000000 | t; }

// The trampoline's words. A Label collects the branches (b, b.cond, cbz,
// cbnz) that go to one place not emitted yet; bind() points them there.
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
  // A branch to `label`, patched when it is bound.
  void put(uint32_t branch, Label& label) { label.uses.push_back(put(branch)); }
  size_t size() const { return words_.size(); }
  uint64_t here() const { return at_ + kInsnSize * words_.size(); }
  // Points the branch at `index` to the word at index `target`.
  void bind(size_t index, size_t target) {
    const int64_t offset = (static_cast<int64_t>(target) - static_cast<int64_t>(index)) * int64_t{kInsnSize};
    const uint32_t w = words_[index];
    const BranchForm form = (w & 0xfc000000) == kB           ? BranchForm::Imm26
                            : (w & 0x7e000000) == 0x36000000 ? BranchForm::Imm14  // tbz/tbnz
                                                             : BranchForm::Imm19;
    words_[index] = with_branch_offset(w, form, offset);
  }
  // Points every use of `label` here.
  void bind(Label& label) {
    for (size_t use : label.uses) bind(use, size());
    label.uses.clear();
  }
  // movz/movk: the fewest that make `value` in xD.
  void mov_imm(uint8_t d, uint64_t value) {
    put(movz(d, static_cast<uint16_t>(value), 0));
    for (unsigned hw = 1; hw < 4; ++hw)
      if (uint16_t part = static_cast<uint16_t>(value >> (16 * hw))) put(movk(d, part, hw));
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

// The frame a trampoline builds first: x0-x4 and x8 saved at [sp + 8 * i]
// in kSaved's order; when it evaluates conditions (a frame of
// kFilterFrame bytes), x5 and x6 (the kept records' mask and count) and
// NZCV after them. Every other register keeps its value at the site.
inline constexpr uint8_t kSaved[] = {0, 1, 2, 3, 4, 8, 5, 6};
constexpr uint32_t kPlainFrame = 48;   // the first six of kSaved
constexpr uint32_t kFilterFrame = 80;  // all of kSaved, then NZCV; 16-aligned
constexpr uint32_t kNzcvSlot = 64;

// Loads register word `word`'s value at the site into x8 (a frame of
// `frame` bytes below the site's sp); false for a word the trampoline
// cannot read (pstate).
bool load_site_word(Words& c, uint16_t word, uint64_t site, uint32_t frame);

inline uint32_t cmp(uint8_t n, uint8_t m) { return 0xeb00001f | uint32_t{m} << 16 | uint32_t{n} << 5; }  // subs xzr, xN, xM
inline uint32_t lsl(uint8_t d, uint8_t n, uint32_t shift) {  // ubfm xD, xN, #(-shift mod 64), #(63 - shift)
  return 0xd3400000 | ((64 - shift) % 64) << 16 | (63 - shift) << 10 | uint32_t{n} << 5 | d;
}
inline uint32_t asr(uint8_t d, uint8_t n, uint32_t shift) {  // sbfm xD, xN, #shift, #63
  return 0x9340fc00 | shift << 16 | uint32_t{n} << 5 | d;
}
inline uint32_t b_cond(unsigned cond) { return 0x54000000 | cond; }
inline uint32_t cbz_x(uint8_t t) { return 0xb4000000 | t; }
inline uint32_t tbz(uint8_t t, unsigned bit) { return 0x36000000 | (bit >> 5) << 31 | (bit & 31) << 19 | t; }
inline uint32_t tbnz(uint8_t t, unsigned bit) { return 0x37000000 | (bit >> 5) << 31 | (bit & 31) << 19 | t; }
inline uint32_t sub_imm(uint8_t d, uint8_t n, uint32_t imm12) { return 0xd1000000 | imm12 << 10 | uint32_t{n} << 5 | d; }
inline uint32_t orr_bit(uint8_t d, uint8_t n, unsigned bit) {  // orr xD, xN, #(1 << bit)
  return 0xb2400000 | ((64 - bit) % 64) << 16 | uint32_t{n} << 5 | d;
}
constexpr uint32_t kMrsNzcv = 0xd53b4200;  // mrs x0, nzcv
constexpr uint32_t kMsrNzcv = 0xd51b4200;  // msr nzcv, x0

}  // namespace uptrace::arch::aarch64::a64
