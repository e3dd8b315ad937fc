#pragma once
// Deciding, once per probe, how the aarch64 instruction at the site is
// executed: the table row it falls in, the emulation and step plans it
// allows, and the choice among them for the requested mode.
#include "arch/aarch64/decoder.h"
#include "arch/isa.h"

namespace uptrace::arch::aarch64 {

// Where a copied branch lands when taken: past the copy, distinct from the
// fall-through (slot + 4), and never executed (the single-step trap comes
// first).
constexpr uint64_t kTakenOffsetInSlot = 8;

SiteAnalysis analyze_site(const Decoder& decoder, const SiteContext& ctx);

}  // namespace uptrace::arch::aarch64
