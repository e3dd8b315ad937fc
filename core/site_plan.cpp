#include "core/site_plan.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "common/error.h"
#include "common/ring_layout.h"

namespace uptrace::core {

uint64_t jump_ring_capacity() {
  static const uint64_t capacity = [] {
    const char* text = std::getenv("UPTRACE_TEST_RING_RECORDS");
    if (!text || !*text) return ring::kDefaultCapacity;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(text, &end, 0);
    if (*end != 0 || n < 2 || n > ring::kDefaultCapacity || (n & (n - 1)) != 0)
      throw_runtime("UPTRACE_TEST_RING_RECORDS={} is not a power of two from 2 to {}", text, ring::kDefaultCapacity);
    return static_cast<uint64_t>(n);
  }();
  return capacity;
}

RuntimeAddr provisional_slot(const arch::Isa& isa, RuntimeAddr site) {
  return site + std::min<uint64_t>(0x100000, isa.slot_reach() / 2);
}

arch::StepMechanism step_mechanism_for(const arch::Isa& isa) {
  const char* forced = std::getenv("UPTRACE_TEST_TRAILING_TRAP");
  if (forced && std::string(forced) == "1") return arch::StepMechanism::TrailingTrap;
  return isa.step_mechanism();
}

SitePlan plan_site(const arch::Isa& isa, std::span<const ProbeSite* const> probes, RuntimeAddr slot,
                   const PlanRequest& request, std::optional<RuntimeAddr> ring, uint32_t first_record,
                   const std::string& jump_unavailable) {
  const ProbeSite& s = *probes.front();
  const arch::ModeRequest mode = request.mode;
  SitePlan out;
  arch::SiteContext ctx{s.function_start, s.function_code, s.addr, slot, mode, request.step};
  std::vector<arch::CodePart> parts;
  for (const ProbeSite::Part& p : s.other_parts) parts.push_back({p.start, p.code});
  ctx.after_function = s.after_function;
  ctx.before_function = s.before_function;
  ctx.other_parts = parts;
  ctx.image = s.image.get();
  if (mode == arch::ModeRequest::Auto || mode == arch::ModeRequest::Jump) {
    // The most specific reason first: what the resolver or a look at the
    // live process found, then a missing ring.
    ctx.jump_unavailable = !s.jump_unavailable.empty() ? s.jump_unavailable
                           : !jump_unavailable.empty() ? jump_unavailable
                           : ring                      ? ""
                                                       : "no ring for jump probes could be made in the process";
    for (const ProbeSite* p : probes)
      if (p->role != ProbeRole::Entry && ctx.jump_unavailable.empty())
        ctx.jump_unavailable = "uptrace must stop here: a %return probe replaces the return address at the entry";
    out.jump = arch::JumpContext{ring.value_or(RuntimeAddr(0)), jump_ring_capacity(), {}};
    if (ring && ctx.jump_unavailable.empty()) {
      for (const ProbeSite* p : probes) {
        FetchProgram::Captures c = p->fetch.register_captures();
        if (!c.why_not.empty()) {
          ctx.jump_unavailable = std::move(c.why_not);
          break;
        }
        // A condition runs in the trampoline, or the probe stops: a record
        // for every hit, kept or not, would cost more than the hits kept.
        Filter::ForTrampoline f = p->filter.for_trampoline();
        if (!f.why_not.empty()) {
          ctx.jump_unavailable = std::move(f.why_not);
          break;
        }
        out.jump.records.push_back(
            {first_record + static_cast<uint32_t>(out.jump.records.size()), std::move(c.words), std::move(f.filter)});
      }
      if (ctx.jump_unavailable.empty()) ctx.jump = &out.jump;
    }
  }
  out.analysis = isa.analyze(ctx);
  return out;
}

}  // namespace uptrace::core
