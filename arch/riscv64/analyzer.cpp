#include "arch/riscv64/analyzer.h"

#include <algorithm>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "arch/riscv64/boost.h"
#include "arch/riscv64/decoder.h"
#include "arch/riscv64/encoding.h"
#include "arch/riscv64/insn_table.h"
#include "arch/riscv64/jump.h"
#include "arch/riscv64/riscv64_isa.h"
#include "arch/riscv64/plans.h"
#include "arch/riscv64/registers.h"
#include "arch/riscv64/reservation.h"

namespace uptrace::arch::riscv64 {
namespace {

template <class T>
struct Built {
  std::unique_ptr<T> plan;
  std::string why_not;  // when plan is null
};

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }
std::string reg(unsigned n) { return std::string(x_name(n)); }

// What the plan builders need about the site.
struct Site {
  const Decoded& d;
  RuntimeAddr site;
  RuntimeAddr slot;

  uint32_t w() const { return d.word; }
  InsnClass cls() const { return d.row->cls; }
  uint64_t next() const { return site.value + d.insn.length; }
};

Comparison comparison_of(uint32_t word) {
  switch (funct3(word)) {
    case 0: return Comparison::Eq;
    case 1: return Comparison::Ne;
    case 4: return Comparison::Lt;
    case 5: return Comparison::Ge;
    case 6: return Comparison::Ltu;
    default: return Comparison::Geu;  // 7; 2 and 3 are no branch and match no row
  }
}

// "ra = 0x401004, " when a jump links, nothing when rd is x0.
std::string link_phrase(unsigned rd, uint64_t link) {
  return rd == 0 ? std::string() : fmt::format("{} = {}, ", reg(rd), hex(link));
}

// --- emulation ----------------------------------------------------------------
// The compressed forms were expanded to their 32-bit equivalents by the
// decoder, so one emulation serves both, with the link and the fall-through
// at site + the real length.

Built<ProbePlan> build_emulation(const Site& s) {
  const uint32_t w = s.w();
  const std::string_view name = s.d.name();
  switch (s.cls()) {
    case InsnClass::Jal: {
      const uint64_t target = s.site.value + static_cast<uint64_t>(imm_j(w));
      return {std::make_unique<JumpEmulation>(
                  fmt::format("emulated: {} ({}jump to {})", name, link_phrase(rd(w), s.next()), hex(target)),
                  target, static_cast<uint8_t>(rd(w)), s.next()),
              {}};
    }
    case InsnClass::Jalr: {
      const int64_t offset = imm_i(w);
      const std::string to = offset == 0 ? reg(rs1(w)) : fmt::format("{}{:+d}", reg(rs1(w)), offset);
      return {std::make_unique<RegisterJumpEmulation>(
                  fmt::format("emulated: {} ({}jump to {})", name, link_phrase(rd(w), s.next()), to),
                  static_cast<uint8_t>(rs1(w)), offset, static_cast<uint8_t>(rd(w)), s.next()),
              {}};
    }
    case InsnClass::Branch: {
      const uint64_t target = s.site.value + static_cast<uint64_t>(imm_b(w));
      return {std::make_unique<BranchEmulation>(
                  fmt::format("emulated: {} (jump to {} if taken, else continue at {})", name, hex(target),
                              hex(s.next())),
                  comparison_of(w), static_cast<uint8_t>(rs1(w)), static_cast<uint8_t>(rs2(w)), target,
                  s.next()),
              {}};
    }
    case InsnClass::Auipc: {
      const uint64_t value = s.site.value + static_cast<uint64_t>(imm_u(w));
      return {std::make_unique<AuipcEmulation>(fmt::format("emulated: auipc {}, {}", reg(rd(w)), hex(value)),
                                               static_cast<uint8_t>(rd(w)), value, s.next()),
              {}};
    }
    case InsnClass::Skip:
      return {std::make_unique<JumpEmulation>(fmt::format("emulated: {} (continue at {})", name, hex(s.next())),
                                              s.next()),
              {}};
    default: return {nullptr, fmt::format("{} cannot be emulated", name)};
  }
}

// --- stepping out of line --------------------------------------------------------

Built<StepPlan> build_step(const Site& s) {
  const std::string_view name = s.d.name();
  switch (s.cls()) {
    case InsnClass::Jal:
    case InsnClass::Jalr:
    case InsnClass::Branch:
      return {nullptr, fmt::format("{} transfers control: with no hardware single step its copy would leave the slot "
                                   "before reaching the trap after it, so it is only emulated",
                                   name)};
    default: break;
  }
  StepSpec spec;
  spec.site = s.site;
  spec.slot = s.slot;
  spec.copy.assign(s.d.insn.code().begin(), s.d.insn.code().end());
  spec.description = "single-step out of line (the copy, then c.ebreak)";
  if (s.cls() == InsnClass::Auipc && rd(s.w()) != 0) {
    spec.result_delta.emplace(static_cast<uint8_t>(rd(s.w())), s.site.value - s.slot.value);
    spec.description += fmt::format("; then {} is moved from the slot's address to the site's", reg(rd(s.w())));
  }
  return {std::make_unique<StepPlan>(std::move(spec)), {}};
}

// Why a site has no boost: a control transfer has no step plan to boost,
// and is emulated (auto) or refused (--mode boost).
BoostBuild build_boost_for(const Site& s, const Built<StepPlan>& step) {
  switch (s.cls()) {
    case InsnClass::Jal:
    case InsnClass::Jalr:
    case InsnClass::Branch:
      return {nullptr, fmt::format("{} transfers control: run from the slot it would link or branch relative to the "
                                   "slot, so it is only emulated",
                                   s.d.name())};
    default: break;
  }
  if (!step.plan) return {nullptr, step.why_not};
  return build_boost(step.plan->spec());
}

SiteAnalysis refuse(SiteAnalysis out, std::string why) {
  out.refusal = std::move(why);
  return out;
}

}  // namespace

SiteAnalysis analyze_site(const SiteContext& ctx) {
  SiteAnalysis out;
  out.insn.address = ctx.site;
  const int64_t offset = ctx.site - ctx.function_start;
  if (offset < 0 || static_cast<uint64_t>(offset) >= ctx.function_code.size()) {
    return refuse(std::move(out), "the probe address is outside the function's code");
  }
  if (ctx.site.value % kParcel != 0 || ctx.function_start.value % kParcel != 0) {
    return refuse(std::move(out), "the probe address is not 2-byte aligned: riscv64 instructions are");
  }
  // RVC mixes lengths: only a forward decode from the function's start finds
  // the boundaries (and the lr/sc sequences).
  const std::vector<Decoded> code = decode_all(ctx.function_code, ctx.function_start);
  const auto at = std::find_if(code.begin(), code.end(), [&](const Decoded& d) { return d.insn.address >= ctx.site; });
  if (at == code.end() || at->insn.address != ctx.site) {
    if (at != code.begin() && std::prev(at)->insn.address + std::prev(at)->insn.length > ctx.site) {
      const Decoded& inside = *std::prev(at);
      return refuse(std::move(out), fmt::format("the probe address is inside the instruction at +{:#x} ({}, {} bytes)",
                                                inside.insn.address - ctx.function_start, inside.insn.text,
                                                inside.insn.length));
    }
    return refuse(std::move(out), "the function's code ends inside the instruction at the probe address");
  }
  const Decoded& d = *at;
  out.insn = d.insn;
  if (!d.known()) {
    return refuse(std::move(out),
                  "undecodable instruction: uptrace decodes RV64GC (I, M, A, F, D, C, Zicsr, Zifencei) and Zba, Zbb, "
                  "Zbs, Zicond and Zihintpause, not this");
  }
  if (is_refused(d.row->cls)) return refuse(std::move(out), fmt::format("{} {}", d.name(), d.row->reason));
  if (auto lr = reservation_sequence_start(ctx.function_code, ctx.function_start, ctx.site)) {
    const auto opener = std::find_if(code.begin(), at, [&](const Decoded& c) { return c.insn.address == *lr; });
    return refuse(std::move(out),
                  fmt::format("inside a load-reserved/store-conditional sequence (opened by the {} at +{:#x}): a trap "
                              "here goes through the kernel, which clears the reservation, so its store-conditional "
                              "would fail every time and the retry loop never end",
                              opener->name(), *lr - ctx.function_start));
  }
  const Site site{d, ctx.site, ctx.slot};
  // Jump first: no stop at all. The slot is the trampoline.
  std::string no_jump = fmt::format("{} mode was requested", to_string(ctx.request));
  if (ctx.request == ModeRequest::Auto || ctx.request == ModeRequest::Jump) {
    JumpBuild jump = build_jump(d, ctx, code, Riscv64Isa::kSlotSize);
    if (jump.plan) {
      out.plan = std::move(jump.plan);
      return out;
    }
    if (ctx.request == ModeRequest::Jump) return refuse(std::move(out), "cannot jump: " + jump.why_not);
    no_jump = std::move(jump.why_not);
  }
  Built<ProbePlan> emulation = build_emulation(site);
  if (ctx.request == ModeRequest::Emulate || (ctx.request == ModeRequest::Auto && emulation.plan)) {
    if (!emulation.plan) return refuse(std::move(out), emulation.why_not);
    out.plan = std::move(emulation.plan);
    out.declined.emplace_back(ExecMode::Jump, no_jump);
    return out;
  }

  // Boost where the copy can run free (auto, as on aarch64); the step
  // otherwise, and always with --mode trap.
  Built<StepPlan> step = build_step(site);
  BoostBuild boost = ctx.request == ModeRequest::Trap ? BoostBuild{nullptr, "trap mode was requested"}
                                                      : build_boost_for(site, step);
  if (ctx.request == ModeRequest::Boost && !boost.plan) return refuse(std::move(out), "cannot boost: " + boost.why_not);
  if (!boost.plan && !step.plan) return refuse(std::move(out), step.why_not);
  out.declined.emplace_back(ExecMode::Emulate, emulation.plan ? fmt::format("{} mode was requested", to_string(ctx.request))
                                                              : emulation.why_not);
  if (boost.plan) {
    out.plan = std::move(boost.plan);
  } else {
    out.plan = std::move(step.plan);
    out.declined.emplace_back(ExecMode::Boost, std::move(boost.why_not));
  }
  out.declined.emplace_back(ExecMode::Jump, no_jump);
  return out;
}

}  // namespace uptrace::arch::riscv64
