#pragma once
// The RV64GC instructions riscv64 jump trampolines are made of (jump.cpp):
// one encoder per form they use, and the code list with the branches
// patched once their targets are known. Each encoding is checked against
// riscv64-linux-gnu-objdump in tests/unit/arch/riscv64/test_jump.cpp.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "arch/riscv64/encoding.h"

namespace uptrace::arch::riscv64::rv {

// Registers by number.
constexpr uint8_t kZero = 0, kSpReg = 2, kTpReg = 4, kT0 = 5, kT1 = 6, kT2 = 7, kA0Reg = 10, kA7Reg = 17, kT3 = 28,
                  kT4 = 29, kT5 = 30, kT6 = 31;

inline uint32_t addi(uint8_t d, uint8_t s, int64_t imm) { return encode_i(op::kOpImm, 0, d, s, imm); }
inline uint32_t addiw(uint8_t d, uint8_t s, int64_t imm) { return encode_i(op::kOpImm32, 0, d, s, imm); }
inline uint32_t slli(uint8_t d, uint8_t s, unsigned shamt) { return encode_i(op::kOpImm, 1, d, s, shamt); }
inline uint32_t srli(uint8_t d, uint8_t s, unsigned shamt) { return encode_i(op::kOpImm, 5, d, s, shamt); }
inline uint32_t add(uint8_t d, uint8_t s1, uint8_t s2) { return encode_r(op::kOp, 0, 0, d, s1, s2); }
inline uint32_t sub(uint8_t d, uint8_t s1, uint8_t s2) { return encode_r(op::kOp, 0, 0x20, d, s1, s2); }
inline uint32_t or_(uint8_t d, uint8_t s1, uint8_t s2) { return encode_r(op::kOp, 6, 0, d, s1, s2); }
inline uint32_t lui(uint8_t d, int64_t value) { return encode_u(op::kLui, d, value); }  // value: low 12 bits zero
inline uint32_t ld(uint8_t d, uint8_t base, int64_t imm) { return encode_i(op::kLoad, 3, d, base, imm); }
inline uint32_t sd(uint8_t src, uint8_t base, int64_t imm) { return encode_s(op::kStore, 3, base, src, imm); }
inline uint32_t lr_d(uint8_t d, uint8_t base) { return encode_r(op::kAmo, 3, 0x02 << 2, d, base, 0); }
inline uint32_t sc_d(uint8_t d, uint8_t src, uint8_t base) { return encode_r(op::kAmo, 3, 0x03 << 2, d, base, src); }
// fence PRED, SUCC with the bits i=8, o=4, r=2, w=1.
inline uint32_t fence(unsigned pred, unsigned succ) { return op::kMiscMem | (pred << 24) | (succ << 20); }
constexpr unsigned kR = 2, kW = 1;
inline uint32_t rdtime(uint8_t d) { return 0xc0102073 | uint32_t{d} << 7; }  // csrrs d, time, zero
constexpr uint32_t kEcall = 0x00000073;
inline uint32_t beqz(uint8_t s) { return encode_b(0, s, kZero, 0); }
inline uint32_t bnez(uint8_t s) { return encode_b(1, s, kZero, 0); }
inline uint32_t jal0() { return encode_j(kZero, 0); }
constexpr uint16_t kCEbreakParcel = 0x9002;
constexpr uint16_t kCNop = 0x0001;
constexpr uint16_t kCJ = 0xa001;  // c.j with a zero offset
// c.j's offset[11|4|9:8|10|6|7|3:1|5] in bits 12:2.
inline uint16_t c_j_offset(int64_t offset) {
  const uint32_t o = static_cast<uint32_t>(offset);
  const uint32_t imm = ((o >> 11) & 1) << 12 | ((o >> 4) & 1) << 11 | ((o >> 8) & 3) << 9 | ((o >> 10) & 1) << 8 |
                       ((o >> 6) & 1) << 7 | ((o >> 7) & 1) << 6 | ((o >> 1) & 7) << 3 | ((o >> 5) & 1) << 2;
  return static_cast<uint16_t>(imm);
}

// A trampoline's code: 4-byte instructions and a few 2-byte ones, at a
// known address. A Label collects the branches (beqz/bnez, jal, c.j) to a
// place not emitted yet; bind() points them there.
class Code {
 public:
  enum class Form : uint8_t { None, B, J, CJ };
  struct Label {
    std::vector<size_t> uses;
  };
  explicit Code(uint64_t at) : at_(at) {}
  size_t put(uint32_t word, Form form = Form::None) {
    items_.push_back({word, 4, form, bytes_});
    bytes_ += 4;
    return items_.size() - 1;
  }
  size_t put_parcel(uint16_t parcel, Form form = Form::None) {
    items_.push_back({parcel, 2, form, bytes_});
    bytes_ += 2;
    return items_.size() - 1;
  }
  void put(uint32_t branch, Form form, Label& label) { label.uses.push_back(put(branch, form)); }
  void put_parcel(uint16_t branch, Form form, Label& label) { label.uses.push_back(put_parcel(branch, form)); }
  uint64_t here() const { return at_ + bytes_; }
  uint64_t offset() const { return bytes_; }
  // Points the branch at item `index` to byte offset `target`.
  void bind_at(size_t index, uint64_t target) {
    Item& it = items_[index];
    const int64_t offset = static_cast<int64_t>(target) - static_cast<int64_t>(it.offset);
    switch (it.form) {
      case Form::B: it.bits |= encode_b(0, 0, 0, offset); break;
      case Form::J: it.bits |= encode_j(0, offset); break;
      case Form::CJ: it.bits |= c_j_offset(offset); break;
      case Form::None: break;
    }
  }
  // Points every use of `label` here.
  void bind(Label& label) {
    for (size_t use : label.uses) bind_at(use, bytes_);
    label.uses.clear();
  }
  // Points every use of `label` to byte offset `target`.
  void bind(Label& label, uint64_t target) {
    for (size_t use : label.uses) bind_at(use, target);
    label.uses.clear();
  }
  // rd = value, in the fewest lui/addiw/addi/slli this way finds.
  void li(uint8_t d, int64_t value);
  std::vector<uint8_t> bytes() const;

 private:
  struct Item {
    uint32_t bits;
    uint8_t length;
    Form form;
    uint64_t offset;
  };
  uint64_t at_;
  uint64_t bytes_ = 0;
  std::vector<Item> items_;
};

}  // namespace uptrace::arch::riscv64::rv
