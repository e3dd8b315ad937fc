#include "arch/aarch64/pointer_auth.h"

#include "arch/aarch64/encoding.h"

namespace uptrace::arch::aarch64 {
namespace {

constexpr unsigned kLr = 30;

// HINT #imm is 0xd503201f | imm << 5; these hint numbers act on x30:
//   24 paciaz  25 paciasp  26 pacibz  27 pacibsp
//   28 autiaz  29 autiasp  30 autibz  31 autibsp
// (8-14 are the *1716 forms, which act on x17, and 7 is xpaclri, a strip.)
constexpr uint32_t kHintMask = 0xfffff01f;
constexpr uint32_t kHint = 0xd503201f;
constexpr unsigned kFirstLrHint = 24;
constexpr unsigned kLastLrHint = 31;

// retaa 0xd65f0bff, retab 0xd65f0fff: authenticate x30 and return.
constexpr uint32_t kRetaa = 0xd65f0bff;
constexpr uint32_t kRetab = 0xd65f0fff;

// Data-processing (1 source), 64-bit, opcode2 = 00001: the PAuth group.
// Bits 15:10 are the opcode: 0x00-0x0f sign or authenticate with an I or D
// key (pacia ... autdzb), 0x10/0x11 are xpaci/xpacd (strip only); the
// FEAT_PAuth_LR forms with sp and pc as modifiers (paciasppc, ...) are
// further up and have rd = 30. Bits 4:0 are rd, the pointer acted on.
constexpr uint32_t kPauthMask = 0xffff0000;
constexpr uint32_t kPauth = 0xdac10000;
constexpr unsigned kXpaci = 0x10;
constexpr unsigned kXpacd = 0x11;

}  // namespace

bool uses_return_address_auth(uint32_t word) {
  if ((word & kHintMask) == kHint) {
    const unsigned imm = bits(word, 11, 5);
    return imm >= kFirstLrHint && imm <= kLastLrHint;
  }
  if (word == kRetaa || word == kRetab) return true;
  if ((word & kPauthMask) == kPauth) {
    const unsigned opcode = bits(word, 15, 10);
    return bits(word, 4, 0) == kLr && opcode != kXpaci && opcode != kXpacd;
  }
  return false;
}

}  // namespace uptrace::arch::aarch64
