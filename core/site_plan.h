#pragma once
// How the probes at one address are analysed, the same way for arming,
// for the checks before attaching and for --explain: the ISA's analysis with
// the jump context their fetch arguments allow.
#include <optional>
#include <span>

#include "arch/isa.h"
#include "core/probe_site.h"

namespace uptrace::core {

struct SitePlan {
  arch::SiteAnalysis analysis;
  arch::JumpContext jump;  // the records a jump plan writes, when it is one
};

// How probes are to be run, as arming will: the mode asked for and the
// ISA's step mechanism (tests force x86-64 to the trailing trap).
struct PlanRequest {
  arch::ModeRequest mode = arch::ModeRequest::Auto;
  arch::StepMechanism step = arch::StepMechanism::HardwareStep;
};

// `probes` share one address. `ring`: where the jump-probe ring is (or
// will be) mapped, nullopt when there is none; `first_record` numbers the
// site's records in it. `jump_unavailable`: why jump mode cannot be used
// here, found by a check of the live process (core/site_check.h).
SitePlan plan_site(const arch::Isa& isa, std::span<const ProbeSite* const> probes, RuntimeAddr slot,
                   const PlanRequest& request, std::optional<RuntimeAddr> ring, uint32_t first_record,
                   const std::string& jump_unavailable = {});

// The step mechanism uptrace uses for `isa`: its own, or for tests,
// UPTRACE_TEST_TRAILING_TRAP=1 makes an ISA with hardware single-step run
// copies to a trailing trap, as riscv64 must (so the core's second
// mechanism is proven on x86-64 too).
arch::StepMechanism step_mechanism_for(const arch::Isa& isa);

// Records per jump-probe ring: ring::kDefaultCapacity, or, for tests that
// must fill rings on purpose, UPTRACE_TEST_RING_RECORDS (a power of two,
// 2 or more). Throws Error for a bad value.
uint64_t jump_ring_capacity();

// A slot address near `site` for analysing before anything is mapped (1 MiB
// away, or half the ISA's slot reach where that is less: riscv64's jal), and
// a ring address for the same purpose.
RuntimeAddr provisional_slot(const arch::Isa& isa, RuntimeAddr site);
constexpr RuntimeAddr kProvisionalRing{0x7f0000000000};

}  // namespace uptrace::core
