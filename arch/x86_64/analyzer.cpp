#include "arch/x86_64/analyzer.h"

#include <algorithm>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "arch/x86_64/boost.h"
#include "arch/x86_64/insn_table.h"
#include "arch/x86_64/jump.h"
#include "arch/x86_64/plans.h"
#include "arch/x86_64/registers.h"
#include "arch/x86_64/relocate.h"

namespace uptrace::arch::x86_64 {
namespace {

constexpr size_t kMaxInsnLength = 15;
// Why jump is not offered where copies run to a trailing trap: a thread
// found inside its free-running trampoline by a signal is stepped out,
// which needs hardware single-step (boost slots carry a stepped form of
// their copy instead: build_boost_for).
constexpr const char* kNoFreeRunning =
    "a thread in a free-running slot could not be stepped out without hardware single-step";

template <class T>
struct Built {
  std::unique_ptr<T> plan;
  std::string why_not;  // when plan is null
};

// What the plan builders need about the site.
struct Site {
  const Decoded& d;
  InsnClass cls;
  std::string_view row_name;
  RuntimeAddr site;
  RuntimeAddr slot;
  StepMechanism step = StepMechanism::HardwareStep;

  uint8_t length() const { return d.insn.length; }
  uint64_t next() const { return site.value + length(); }
};

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

int64_t read_signed_le(std::span<const uint8_t> bytes) {
  uint64_t v = 0;
  for (size_t i = 0; i < bytes.size(); ++i) v |= uint64_t{bytes[i]} << (8 * i);
  const unsigned unused = 64 - 8 * static_cast<unsigned>(bytes.size());
  return static_cast<int64_t>(v << unused) >> unused;
}

uint64_t branch_target(const Site& s) { return relative_branch_target(s.d); }

// What pushf stores: 16 bits with 66, unless REX.W overrides it.
uint8_t pushf_bytes(const Encoding& enc) { return enc.opsize && !enc.rex_w() ? 2 : 8; }

bool is_conditional(InsnClass cls) { return cls == InsnClass::Jcc || cls == InsnClass::Loop || cls == InsnClass::Jrcxz; }

// --- stepping out of line -----------------------------------------------------

void step_relative_branch(const Site& s, StepSpec& spec) {
  const bool rel32 = s.d.enc.map == OpcodeMap::TwoByte || s.d.enc.opcode == 0xe9;
  const uint8_t n = rel32 ? 4 : 1;
  const uint64_t in_slot_rel = is_conditional(s.cls) ? kTakenOffsetInSlot : 0;
  for (uint8_t i = 0; i < n; ++i) spec.code[spec.code.size() - n + i] = static_cast<uint8_t>(in_slot_rel >> (8 * i));
  const uint64_t slot_next = s.slot.value + s.length();
  spec.pc.kind = PcFixup::Kind::Branch;
  spec.pc.taken_in_slot = slot_next + in_slot_rel;
  spec.pc.taken = branch_target(s);
  spec.pc.not_taken_in_slot = slot_next;
  spec.pc.not_taken = is_conditional(s.cls) ? s.next() : spec.pc.taken;
  spec.description += is_conditional(s.cls)
                          ? fmt::format("; the copy branches inside the slot, then pc is set to {} if taken, else {}",
                                        hex(spec.pc.taken), hex(spec.pc.not_taken))
                          : fmt::format("; the copy jumps inside the slot, then pc is set to {}", hex(spec.pc.taken));
}

void step_relative_call(const Site& s, StepSpec& spec) {
  // "call +0": it pushes a return address and lands right after itself,
  // wherever the slot is; the fixup sets the real target and return address.
  spec.code = {0xe8, 0x00, 0x00, 0x00, 0x00};
  const uint64_t landing = s.slot.value + spec.code.size();
  spec.pc = {PcFixup::Kind::Branch, landing, branch_target(s), landing, branch_target(s)};
  spec.rewrite_return_address = true;
  spec.description += fmt::format("; stepped as call +0, then the return address is rewritten to {} and pc set to {}",
                                  hex(s.next()), hex(branch_target(s)));
}

// StepMechanism::TrailingTrap: an int3 where the copy ends, and at each
// in-slot landing point of a copied branch, so the thread runs to one.
void end_with_traps(StepSpec& spec) {
  std::vector<uint64_t> at;
  if (spec.pc.kind == PcFixup::Kind::Branch) {
    at = {spec.pc.not_taken_in_slot, spec.pc.taken_in_slot};
  } else {
    at = {spec.slot.value + spec.code.size()};
  }
  for (uint64_t trap : at) {
    const size_t offset = static_cast<size_t>(trap - spec.slot.value);
    if (spec.code.size() <= offset) spec.code.resize(offset + 1, 0xcc);  // int3, and int3 padding before it
    spec.code[offset] = 0xcc;
    if (std::find(spec.end_traps.begin(), spec.end_traps.end(), trap) == spec.end_traps.end()) spec.end_traps.push_back(trap);
  }
  spec.description += "; then runs to an int3 after the copy";
}

Built<StepPlan> build_step(const Site& s, bool faulting_fallback = false) {
  StepSpec spec;
  spec.site = s.site;
  spec.slot = s.slot;
  spec.length = s.length();
  const auto code = s.d.insn.code();
  spec.code.assign(code.begin(), code.end());
  spec.description = "single-step out of line";

  if (s.d.rip_relative()) {
    RipRewriteResult r = rewrite_rip_relative(s.d, s.slot);
    if (!r.rewrite) return {nullptr, std::move(r.why_not)};
    spec.code = std::move(r.rewrite->code);
    if (r.rewrite->scratch) {
      spec.scratch_word = gpr_word(*r.rewrite->scratch);
      spec.description += fmt::format("; rip-relative operand via scratch {}", gpr_name(*r.rewrite->scratch));
    } else {
      spec.description += "; rip-relative operand re-encoded for the slot";
    }
  }

  switch (s.cls) {
    case InsnClass::JmpRel:
    case InsnClass::Jcc:
    case InsnClass::Loop:
    case InsnClass::Jrcxz: step_relative_branch(s, spec); break;
    case InsnClass::CallRel: step_relative_call(s, spec); break;
    case InsnClass::Ret:
    case InsnClass::JmpIndirect:
      spec.pc.kind = PcFixup::Kind::Keep;
      spec.description += "; pc comes from the instruction, not the slot";
      break;
    case InsnClass::CallIndirect:
      spec.pc.kind = PcFixup::Kind::Keep;
      spec.rewrite_return_address = true;
      spec.description += fmt::format("; the pushed return address is rewritten to {}", hex(s.next()));
      break;
    case InsnClass::Pushf:
      spec.pushed_flags_bytes = pushf_bytes(s.d.enc);
      spec.description += "; the step's trap flag is cleared from the pushed flags";
      break;
    default: break;
  }
  if (s.step == StepMechanism::TrailingTrap) {
    // An emulation's fallback runs only when the instruction faults (at its
    // first byte, before it could leave): it needs no trap after it.
    if (spec.pc.kind == PcFixup::Kind::Keep && !faulting_fallback)
      return {nullptr, fmt::format("the {} leaves the slot, so it would never reach the trap after its copy (this "
                                   "ISA's copies run to a trap: there is no hardware single-step)",
                                   s.d.mnemonic)};
    end_with_traps(spec);
  }
  return {std::make_unique<StepPlan>(std::move(spec)), {}};
}

// Boost: the copy and a jump back (built as for a hardware step, with no
// trap after the copy), and where copies run to a trailing trap, the step
// plan placed in the slot again as its stepped form (arch/boost_plan.h).
BoostBuild build_boost_for(const Site& s) {
  Site free_running = s;
  free_running.step = StepMechanism::HardwareStep;
  Built<StepPlan> copy = build_step(free_running);
  if (!copy.plan) return {nullptr, std::move(copy.why_not)};
  if (s.step == StepMechanism::HardwareStep) return build_boost(copy.plan->spec());
  Site at_stepped_form = s;
  at_stepped_form.slot = s.slot + kSteppedFormOffset;
  Built<StepPlan> stepped = build_step(at_stepped_form);
  if (!stepped.plan)
    return {nullptr, "a thread a signal finds at the slot's start could not be run through the copy to a trap after "
                     "it (there is no hardware single-step): " +
                         stepped.why_not};
  return build_boost(copy.plan->spec(), &stepped.plan->spec());
}

// --- emulation ----------------------------------------------------------------

Built<ProbePlan> cannot_emulate(const Site& s) {
  return {nullptr, fmt::format("{} cannot be emulated", s.d.mnemonic)};
}

// Emulations that write or read memory fall back to stepping, where the
// access then faults.
template <class Plan, class... Args>
Built<ProbePlan> with_fallback(const Site& s, Args&&... args) {
  Built<StepPlan> fallback = build_step(s, true);
  if (!fallback.plan) return {nullptr, std::move(fallback.why_not)};
  return {std::make_unique<Plan>(std::forward<Args>(args)..., std::move(fallback.plan)), {}};
}

Built<ProbePlan> emulate_push(const Site& s) {
  if (s.d.enc.opsize) return {nullptr, "push with an operand-size (0x66) prefix cannot be emulated"};
  PushEmulation::Source source;
  std::string what;
  if (s.cls == InsnClass::PushReg) {
    const auto& op = s.d.operands.at(0);
    const auto ref = register_by_name(op.reg);
    if (op.kind != Operand::Kind::Register || !ref) return cannot_emulate(s);
    source.word = ref->word;
    what = op.reg;
  } else {
    source.kind = PushEmulation::Source::Kind::Immediate;
    const uint8_t n = s.d.enc.opcode == 0x6a ? 1 : 4;
    source.value = static_cast<uint64_t>(read_signed_le(s.d.insn.code().last(n)));
    what = hex(source.value);
  }
  return with_fallback<PushEmulation>(s, fmt::format("emulated: push {}", what), source, uint8_t{8}, s.next());
}

Built<ProbePlan> emulate_lea(const Site& s) {
  const auto& dest = s.d.operands.at(0);
  const auto ref = register_by_name(dest.reg);
  if (dest.kind != Operand::Kind::Register || !ref) return cannot_emulate(s);
  const uint64_t value = rip_target(s.d, s.site);
  return {std::make_unique<LeaEmulation>(fmt::format("emulated: lea {}, {}", dest.reg, hex(value)), *ref, value,
                                         s.next()),
          {}};
}

Built<ProbePlan> emulate_indirect(const Site& s) {
  if (s.d.enc.opsize || s.d.operands.size() != 1) return {nullptr, "a 16-bit indirect branch cannot be emulated"};
  const Operand& op = s.d.operands.front();
  IndirectBranchEmulation::Target target;
  std::string what;
  if (op.kind == Operand::Kind::Register) {
    target.reg = register_by_name(op.reg);
    if (!target.reg) return cannot_emulate(s);
    what = op.reg;
  } else {
    target.disp = op.value;
    if (op.reg == "rip") {
      target.disp += static_cast<int64_t>(s.next());
    } else if (!op.reg.empty()) {
      target.base = register_by_name(op.reg);
      if (!target.base || target.base->bits != 64) return cannot_emulate(s);
    }
    if (!op.index.empty()) {
      target.index = register_by_name(op.index);
      if (!target.index || target.index->bits != 64) return cannot_emulate(s);
      target.scale = op.scale;
    }
    if (op.segment == "fs") target.segment_base = kFsBase;
    else if (op.segment == "gs") target.segment_base = kGsBase;
    else if (!op.segment.empty()) return cannot_emulate(s);
    what = "the pointer at its operand";
  }
  const bool call = s.cls == InsnClass::CallIndirect;
  return with_fallback<IndirectBranchEmulation>(
      s, fmt::format("emulated: {} ({}to {})", s.d.mnemonic, call ? fmt::format("push {}, jump ", hex(s.next())) : "jump ", what),
      target, call, s.next());
}

Built<ProbePlan> build_emulation(const Site& s) {
  const uint64_t next = s.next();
  switch (s.cls) {
    case InsnClass::JmpRel:
      return {std::make_unique<JumpEmulation>(
                  fmt::format("emulated: {} (jump to {})", s.row_name, hex(branch_target(s))), branch_target(s)),
              {}};
    case InsnClass::CallRel:
      return with_fallback<CallEmulation>(
          s, fmt::format("emulated: call rel32 (push return address, jump to {})", hex(branch_target(s))), next,
          branch_target(s));
    case InsnClass::Jcc:
      return {std::make_unique<CondJumpEmulation>(
                  fmt::format("emulated: {} (jump to {} if taken, else continue at {})", s.d.mnemonic,
                              hex(branch_target(s)), hex(next)),
                  static_cast<uint8_t>(s.d.enc.opcode & 0x0f), branch_target(s), next),
              {}};
    case InsnClass::Loop:
    case InsnClass::Jrcxz:
      return {std::make_unique<LoopEmulation>(
                  fmt::format("emulated: {} (jump to {} if taken, else continue at {})", s.d.mnemonic,
                              hex(branch_target(s)), hex(next)),
                  s.d.enc.opcode, s.d.enc.addrsize, branch_target(s), next),
              {}};
    case InsnClass::Nop:
    case InsnClass::Endbr:
      return {std::make_unique<JumpEmulation>(fmt::format("emulated: {} (continue at {})", s.d.mnemonic, hex(next)),
                                              next),
              {}};
    case InsnClass::PushReg:
    case InsnClass::PushImm: return emulate_push(s);
    case InsnClass::Pushf: {
      PushEmulation::Source flags_source{PushEmulation::Source::Kind::Flags};
      const uint8_t bytes = pushf_bytes(s.d.enc);
      return with_fallback<PushEmulation>(s, std::string("emulated: pushf (push the flags)"), flags_source, bytes,
                                          next);
    }
    case InsnClass::Ret: {
      const uint16_t release =
          s.d.enc.opcode == 0xc2 ? static_cast<uint16_t>(read_signed_le(s.d.insn.code().last(2))) : 0;
      std::string what = release ? fmt::format("ret {} (pop the return address and {} bytes)", release, release)
                                 : std::string("ret (pop the return address)");
      return with_fallback<RetEmulation>(s, "emulated: " + what, release);
    }
    case InsnClass::LeaRip: return emulate_lea(s);
    case InsnClass::JmpIndirect:
    case InsnClass::CallIndirect: return emulate_indirect(s);
    default: return cannot_emulate(s);
  }
}

bool is_refusal(const InsnRow* row) { return row && (row->cls == InsnClass::Trap || row->cls == InsnClass::Refused); }

SiteAnalysis refuse(SiteAnalysis out, std::string_view why) {
  out.refusal = std::string(why);
  return out;
}

}  // namespace

SiteAnalysis analyze_site(const Decoder& decoder, const SiteContext& ctx) {
  SiteAnalysis out;
  out.insn.address = ctx.site;
  const int64_t offset = ctx.site - ctx.function_start;
  if (offset < 0 || static_cast<uint64_t>(offset) >= ctx.function_code.size()) {
    return refuse(std::move(out), "the probe address is outside the function's code");
  }
  const auto rest = ctx.function_code.subspan(static_cast<size_t>(offset));
  const auto code = rest.first(std::min(rest.size(), kMaxInsnLength));

  auto d = decoder.decode_one(code, ctx.site);
  if (!d) {
    out.insn.text = "(bad)";
    // Capstone rejects the opcodes that are invalid in 64-bit mode; the table still says why.
    if (auto enc = parse_encoding(code)) {
      if (const InsnRow* row = classify(*enc, code); is_refusal(row)) return refuse(std::move(out), row->reason);
    }
    return refuse(std::move(out), "undecodable instruction");
  }
  out.insn = d->insn;

  const InsnRow* row = classify(d->enc, d->insn.code());
  if (is_refusal(row)) return refuse(std::move(out), row->reason);
  std::string jump_why_not = fmt::format("{} mode was requested", to_string(ctx.request));
  if ((ctx.request == ModeRequest::Auto || ctx.request == ModeRequest::Jump) && ctx.step == StepMechanism::TrailingTrap) {
    if (ctx.request == ModeRequest::Jump) return refuse(std::move(out), std::string("cannot jump: ") + kNoFreeRunning);
    jump_why_not = kNoFreeRunning;
  } else if (ctx.request == ModeRequest::Auto || ctx.request == ModeRequest::Jump) {
    JumpBuild jump = build_jump(decoder, ctx, kSlotSize);
    if (jump.plan) {
      out.plan = std::move(jump.plan);
      return out;
    }
    if (ctx.request == ModeRequest::Jump) return refuse(std::move(out), "cannot jump: " + jump.why_not);
    jump_why_not = std::move(jump.why_not);
  }

  const Site site{*d,       row ? row->cls : InsnClass::Plain, row ? row->name : std::string_view{}, ctx.site, ctx.slot,
                  ctx.step};
  Built<ProbePlan> emulation = build_emulation(site);
  // Boosted, an indirect branch runs natively from its slot; emulated, the
  // tracer reads its target from outside. Auto takes the boost where there
  // is one.
  const bool boost_first = ctx.step == StepMechanism::HardwareStep &&
                           (site.cls == InsnClass::JmpIndirect || site.cls == InsnClass::CallIndirect);
  if (ctx.request == ModeRequest::Emulate || (ctx.request == ModeRequest::Auto && emulation.plan && !boost_first)) {
    if (!emulation.plan) return refuse(std::move(out), emulation.why_not);
    out.plan = std::move(emulation.plan);
    out.declined.emplace_back(ExecMode::Jump, std::move(jump_why_not));
    return out;
  }

  Built<StepPlan> step = build_step(site);
  BoostBuild boost = ctx.request == ModeRequest::Trap ? BoostBuild{nullptr, "trap mode was requested"}
                                                      : build_boost_for(site);
  if (ctx.request == ModeRequest::Boost && !boost.plan) return refuse(std::move(out), "cannot boost: " + boost.why_not);
  if (!boost.plan && !step.plan) return refuse(std::move(out), step.why_not);
  std::string emulate_why_not = emulation.plan ? fmt::format("{} mode was requested", to_string(ctx.request))
                                               : emulation.why_not;
  out.declined.emplace_back(ExecMode::Emulate, std::move(emulate_why_not));
  if (boost.plan) {
    out.plan = std::move(boost.plan);
  } else {
    out.plan = std::move(step.plan);
    out.declined.emplace_back(ExecMode::Boost, std::move(boost.why_not));
  }
  out.declined.emplace_back(ExecMode::Jump, std::move(jump_why_not));
  return out;
}

}  // namespace uptrace::arch::x86_64
