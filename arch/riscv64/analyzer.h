#pragma once
// Deciding, once per probe, how the riscv64 instruction at the site is
// executed: its table row and class, the lr/sc sequence scan, and the choice
// among emulation and a step with a trailing trap for the requested mode.
#include "arch/isa.h"

namespace uptrace::arch::riscv64 {

SiteAnalysis analyze_site(const SiteContext& ctx);

}  // namespace uptrace::arch::riscv64
