#pragma once
// Deciding, once per probe, how the instruction at the site is executed:
// the table row it falls in, the emulation and step plans it allows, and the
// choice among them for the requested mode.
#include "arch/isa.h"
#include "arch/x86_64/decoder.h"

namespace uptrace::arch::x86_64 {

// Where a copied conditional branch lands when taken, past the end of the
// copy: distinct from the fall-through, inside the slot, and never executed
// (the single-step trap comes first).
constexpr uint64_t kTakenOffsetInSlot = 16;

// One probe's slot: a step or boost copy needs under 64 bytes; a jump
// trampoline with its records needs a few hundred.
constexpr size_t kSlotSize = 512;

SiteAnalysis analyze_site(const Decoder& decoder, const SiteContext& ctx);

}  // namespace uptrace::arch::x86_64
