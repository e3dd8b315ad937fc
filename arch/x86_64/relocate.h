#pragma once
// Making a copy of a rip-relative instruction address the same memory from
// the slot: re-encode its disp32 when the slot is within ±2 GB of the target
// (frida's first choice), otherwise address it through a scratch register
// loaded with the original next-instruction address (the kernel's and gdb's
// technique).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/x86_64/decoder.h"

namespace uptrace::arch::x86_64 {

// The offset of the disp32 of the instruction's rip-relative ModRM operand,
// or nullopt when the encoding is not the expected "ModRM 00 reg 101, disp32".
std::optional<uint8_t> rip_disp_offset(const Decoded& d);

// The address the rip-relative operand refers to when the instruction runs at
// `at` (eip-relative with a 0x67 prefix: truncated to 32 bits).
uint64_t rip_target(const Decoded& d, RuntimeAddr at);

// The instruction with its disp32 re-encoded for `slot`; nullopt when the
// new displacement does not fit in 32 bits.
std::optional<std::vector<uint8_t>> redisplace(const Decoded& d, RuntimeAddr slot);

// A general-purpose register (encoding number) the instruction neither reads
// nor writes, in the order rsi, rdi, rbx; nullopt when all three are used.
std::optional<unsigned> choose_scratch(const Decoded& d);

// The instruction with its operand changed from [rip + disp32] to
// [scratch + disp32]; the scratch register must hold the original
// next-instruction address while the copy runs.
std::vector<uint8_t> via_scratch(const Decoded& d, unsigned scratch);

// Where a relative branch (jmp/jcc/call/loop/jrcxz rel8 or rel32) at its
// own address goes: rel32 for e8/e9 and the 0f map, rel8 otherwise.
uint64_t relative_branch_target(const Decoded& d);

struct RipRewrite {
  std::vector<uint8_t> code;
  std::optional<unsigned> scratch;  // set when the operand goes through a scratch register
};

struct RipRewriteResult {
  std::optional<RipRewrite> rewrite;
  std::string why_not;  // when rewrite is empty
};

RipRewriteResult rewrite_rip_relative(const Decoded& d, RuntimeAddr slot);

}  // namespace uptrace::arch::x86_64
