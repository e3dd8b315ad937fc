#pragma once
// The frame a jump trampoline builds before it records a hit, and how code
// inside it reads a register as it was at the site. After
// `lea rsp, [rsp - 128]; push rax; lahf; seto al; push rax; push rcx, rdx,
// rsi` the saved registers sit at these offsets from rsp; rax, rcx, rdx,
// rsi and the flags are then free, every other register still holds its
// value at the site. The flags go through lahf/seto rather than
// pushfq/popfq: a thread single-stepped through the trampoline (leaving it
// for a signal, or at detach) would have pushfq save the trap flag and
// popfq set it again for good.
#include <cstdint>

#include "arch/x86_64/code.h"

namespace uptrace::arch::x86_64 {

constexpr uint8_t kRedZone = 128;
constexpr uint8_t kSavedRsi = 0, kSavedRdx = 8, kSavedRcx = 16, kSavedRax = 32;
constexpr uint32_t kOriginalRspOffset = 40 + kRedZone;
constexpr unsigned kRaxNumber = 0;

// Loads register word `word`'s value at the site into rax: from its saved
// copy, from the register itself, rsp as it was, rip as the site's address.
// False for words that are not general-purpose registers or rip.
bool load_site_word(Code& c, uint16_t word, uint64_t site);

}  // namespace uptrace::arch::x86_64
