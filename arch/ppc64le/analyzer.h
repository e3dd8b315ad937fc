#pragma once
// Deciding, once per probe, how the ppc64le instruction at the site is
// executed: the table row it falls in, the emulation or step plan it
// allows, and the choice between them for the requested mode.
#include "arch/isa.h"
#include "arch/ppc64le/decoder.h"

namespace uptrace::arch::ppc64le {

SiteAnalysis analyze_site(const Decoder& decoder, const SiteContext& ctx);

}  // namespace uptrace::arch::ppc64le
