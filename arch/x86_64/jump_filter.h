#pragma once
// A probe's condition compiled into its jump trampoline (arch::JumpFilter):
// compares and branches over the record, so a hit that is filtered out
// costs a few instructions and writes nothing.
#include <cstdint>
#include <string>

#include "arch/isa.h"
#include "arch/x86_64/code.h"

namespace uptrace::arch::x86_64 {

// Emits code, inside the trampoline's frame (arch/x86_64/jump_frame.h),
// that falls through when `filter` holds at `site` and jumps to `on_false`
// when it does not. Uses rax, rdx and the flags. False, with `why_not`, for
// a register it cannot read.
bool emit_jump_filter(Code& c, const JumpFilter& filter, uint64_t site, Code::Label& on_false, std::string& why_not);

}  // namespace uptrace::arch::x86_64
