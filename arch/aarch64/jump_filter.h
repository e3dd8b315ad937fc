#pragma once
// A probe's condition compiled into its aarch64 jump trampoline
// (arch::JumpFilter): compares and branches over the record, so a hit that
// is filtered out costs a few instructions and writes nothing.
#include <cstdint>
#include <string>

#include "arch/aarch64/jump_code.h"
#include "arch/isa.h"

namespace uptrace::arch::aarch64 {

// Emits code, inside the trampoline's frame of `frame` bytes
// (jump_code.h), that falls through when `filter` holds at `site` and
// branches to `on_false` when it does not. Uses x0, x8 and the flags (so
// `frame` is kFilterFrame, which keeps NZCV).
// False, with `why_not`, for what it cannot compile (a glob, pstate).
bool emit_jump_filter(a64::Words& c, const JumpFilter& filter, uint64_t site, uint32_t frame,
                      a64::Words::Label& on_false, std::string& why_not);

}  // namespace uptrace::arch::aarch64
