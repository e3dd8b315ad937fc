#pragma once
// A relay for a jump probe at a function's entry whose 5-byte window is
// refused (a branch from elsewhere lands on its second instruction, as
// glibc's __mempcpy_* enters __memmove_*+3; a syscall or the function's end
// within 5 bytes): the site's first instruction, when it is 2 bytes or more,
// becomes a jmp rel8 to a jmp rel32 written in the padding right before the
// function, which goes on to the trampoline. Only the first instruction is
// displaced, so nothing lands inside the bytes written at the site.
//
// The padding is the bytes before the function that no symbol and no unwind
// entry claims (SiteContext::before_function), and it must decode, from its
// start, as whole nops or int3s that end at the site. The relay starts on
// one of their boundaries: code that did run into the padding (a label
// before an .p2align) reaches the relay as it would have reached the site,
// and so is a hit there, as it should be (glibc's __memcpy_chk_* falls
// through its padding into __memmove_*). Nothing may land after the
// relay's start (no branch, no stored address). A jump probe at the
// previous function's last instruction may overwrite the first bytes of the
// padding: the core refuses a relay with a probe that close
// (core/site_check.cpp).
#include <cstdint>
#include <optional>
#include <string>

#include "arch/isa.h"

namespace uptrace::arch::x86_64 {

class Decoder;

// Where the relay for ctx.site can go, or why none can.
struct RelayPlace {
  std::optional<uint64_t> at;
  std::string why_not;
};

RelayPlace relay_place(const Decoder& decoder, const SiteContext& ctx);

}  // namespace uptrace::arch::x86_64
