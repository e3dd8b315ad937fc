#pragma once
// A probe's condition compiled into its ppc64le jump trampoline
// (arch::JumpFilter): compares and branches over the record, so a hit that
// is filtered out costs a few instructions, writes nothing and makes no
// system call.
#include <cstdint>
#include <string>

#include "arch/isa.h"
#include "arch/ppc64le/jump_code.h"

namespace uptrace::arch::ppc64le {

// Emits code, inside the trampoline's frame (jump_code.h), that falls
// through when `filter` holds at `site` and branches to `on_false` when it
// does not. Uses r9, r10 and CR0 (all saved in the frame).
// False, with `why_not`, for what it cannot compile (a glob, msr).
bool emit_jump_filter(p64::Words& c, const JumpFilter& filter, uint64_t site, p64::Words::Label& on_false,
                      std::string& why_not);

}  // namespace uptrace::arch::ppc64le
