#include "arch/riscv64/jump_code.h"

#include <bit>

namespace uptrace::arch::riscv64::rv {

// A 32-bit value is lui (the upper 20 bits, rounded so the low 12 are a
// signed addend) then addiw, whose 32-bit wrap and sign extension give the
// value exactly; a wider one is its upper part, made the same way, shifted
// into place, plus its low 12 bits.
void Code::li(uint8_t d, int64_t value) {
  if (value == sign_extend(static_cast<uint64_t>(value), 32)) {
    const int64_t low = sign_extend(static_cast<uint64_t>(value) & 0xfff, 12);
    const int64_t high = sign_extend((static_cast<uint64_t>(value) - static_cast<uint64_t>(low)) & 0xfffff000u, 32);
    if (high == 0) {
      put(addi(d, kZero, low));
      return;
    }
    put(lui(d, high));
    if (low != 0) put(addiw(d, d, low));
    return;
  }
  const int64_t low = sign_extend(static_cast<uint64_t>(value) & 0xfff, 12);
  const uint64_t rest = (static_cast<uint64_t>(value) - static_cast<uint64_t>(low)) >> 12;  // not 0: value is wide
  const unsigned zeros = static_cast<unsigned>(std::countr_zero(rest));
  const unsigned shift = 12 + zeros;
  li(d, sign_extend(rest >> zeros, 64 - shift));
  put(slli(d, d, shift));
  if (low != 0) put(addi(d, d, low));
}

std::vector<uint8_t> Code::bytes() const {
  std::vector<uint8_t> out;
  for (const Item& it : items_)
    for (unsigned i = 0; i < it.length; ++i) out.push_back(static_cast<uint8_t>(it.bits >> (8 * i)));
  return out;
}

}  // namespace uptrace::arch::riscv64::rv
