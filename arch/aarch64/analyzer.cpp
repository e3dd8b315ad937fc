#include "arch/aarch64/analyzer.h"

#include <memory>
#include <string>

#include <fmt/format.h>

#include "arch/aarch64/aarch64_isa.h"
#include "arch/aarch64/boost.h"
#include "arch/aarch64/encoding.h"
#include "arch/aarch64/exclusive.h"
#include "arch/aarch64/insn_table.h"
#include "arch/aarch64/jump.h"
#include "arch/aarch64/plans.h"
#include "arch/aarch64/registers.h"

namespace uptrace::arch::aarch64 {
namespace {

constexpr std::string_view kNoFreeRunning =
    "a thread in a free-running slot could not be stepped out without hardware single-step";
// A general register no literal-load form reads: the base for a SIMD&FP
// literal load (and for one into the zero register) while it is stepped.
constexpr uint8_t kScratchBase = 16;

template <class T>
struct Built {
  std::unique_ptr<T> plan;
  std::string why_not;  // when plan is null
};

// What the plan builders need about the site.
struct Site {
  uint32_t word;
  const InsnRow* row;
  InsnClass cls;
  const Instruction& insn;
  RuntimeAddr site;
  RuntimeAddr slot;

  uint64_t next() const { return site.value + kInsnSize; }
  std::string_view mnemonic() const { return std::string_view(insn.text).substr(0, insn.text.find(' ')); }
};

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }
std::string xreg(unsigned n, bool wide = true) {
  if (n == kZeroRegister) return wide ? "xzr" : "wzr";
  return fmt::format("{}{}", wide ? 'x' : 'w', n);
}

uint8_t rd(uint32_t word) { return static_cast<uint8_t>(bits(word, 4, 0)); }
uint8_t rn(uint32_t word) { return static_cast<uint8_t>(bits(word, 9, 5)); }

BranchForm form_of(InsnClass cls) {
  switch (cls) {
    case InsnClass::B:
    case InsnClass::Bl: return BranchForm::Imm26;
    case InsnClass::Tbz: return BranchForm::Imm14;
    default: return BranchForm::Imm19;
  }
}

uint64_t branch_target(const Site& s) {
  return s.site.value + static_cast<uint64_t>(branch_offset(s.word, form_of(s.cls)));
}

bool is_immediate_branch(InsnClass cls) {
  return cls == InsnClass::B || cls == InsnClass::Bl || cls == InsnClass::BCond || cls == InsnClass::Cbz ||
         cls == InsnClass::Tbz;
}

bool is_conditional(InsnClass cls) { return cls == InsnClass::BCond || cls == InsnClass::Cbz || cls == InsnClass::Tbz; }

BranchCondition condition_of(const Site& s) {
  BranchCondition c;
  const uint32_t w = s.word;
  switch (s.cls) {
    case InsnClass::BCond:
      c.kind = BranchCondition::Kind::Flags;
      c.cond = static_cast<uint8_t>(bits(w, 3, 0));
      break;
    case InsnClass::Cbz:
      c.kind = BranchCondition::Kind::Zero;
      c.reg = rd(w);
      c.wide = bits(w, 31, 31);
      c.branch_if_zero = !bits(w, 24, 24);
      break;
    default:  // tbz/tbnz: the bit number is b5:b40
      c.kind = BranchCondition::Kind::Bit;
      c.reg = rd(w);
      c.bit = static_cast<uint8_t>(bits(w, 31, 31) << 5 | bits(w, 23, 19));
      c.branch_if_zero = !bits(w, 24, 24);
      break;
  }
  return c;
}

// ldr w/x, ldrsw (literal): the size and extension (opc, bits 31:30).
struct LiteralLoad {
  uint8_t bytes;
  bool sign_extend;
  uint32_t base_form;  // the same load as ldr (immediate, unsigned offset 0) with Rn = 0, Rt = 0
};
LiteralLoad literal_load(uint32_t word) {
  switch (bits(word, 31, 30)) {
    case 0: return {4, false, 0xb9400000};  // ldr wT, [xN]
    case 1: return {8, false, 0xf9400000};  // ldr xT, [xN]
    default: return {4, true, 0xb9800000};  // ldrsw xT, [xN]
  }
}

std::vector<uint8_t> code_of(uint32_t word) {
  const auto b = word_bytes(word);
  return {b.begin(), b.end()};
}

// --- stepping out of line -----------------------------------------------------

void step_immediate_branch(const Site& s, StepSpec& spec) {
  spec.code = code_of(with_branch_offset(s.word, form_of(s.cls), static_cast<int64_t>(kTakenOffsetInSlot)));
  spec.pc.kind = PcFixup::Kind::Branch;
  spec.pc.taken_in_slot = s.slot.value + kTakenOffsetInSlot;
  spec.pc.taken = branch_target(s);
  spec.pc.not_taken_in_slot = s.slot.value + kInsnSize;
  spec.pc.not_taken = is_conditional(s.cls) ? s.next() : branch_target(s);
  if (s.cls == InsnClass::Bl) {
    spec.rewrite_link = true;
    spec.description += fmt::format("; the copy calls inside the slot, then x30 is set to {} and pc to {}",
                                    hex(s.next()), hex(spec.pc.taken));
  } else if (is_conditional(s.cls)) {
    spec.description += fmt::format("; the copy branches inside the slot, then pc is set to {} if taken, else {}",
                                    hex(spec.pc.taken), hex(spec.pc.not_taken));
  } else {
    spec.description += fmt::format("; the copy jumps inside the slot, then pc is set to {}", hex(spec.pc.taken));
  }
}

Built<StepPlan> build_step(const Site& s) {
  StepSpec spec;
  spec.site = s.site;
  spec.slot = s.slot;
  spec.code = code_of(s.word);
  spec.description = "single-step out of line";

  if (is_immediate_branch(s.cls)) {
    step_immediate_branch(s, spec);
    return {std::make_unique<StepPlan>(std::move(spec)), {}};
  }
  switch (s.cls) {
    case InsnClass::Br:
    case InsnClass::Ret:
    case InsnClass::AuthBranch:
      spec.pc.kind = PcFixup::Kind::Keep;
      spec.description += "; pc comes from the instruction, not the slot";
      break;
    case InsnClass::Blr:
    case InsnClass::AuthCall:
      spec.pc.kind = PcFixup::Kind::Keep;
      spec.rewrite_link = true;
      spec.description += fmt::format("; then x30 is rewritten to {}", hex(s.next()));
      break;
    case InsnClass::Adr:
      spec.result_delta.emplace(rd(s.word), s.site.value - s.slot.value);
      spec.result_value = adr_value(s.word, s.site.value);
      spec.description += fmt::format("; then {} is moved from the slot's address to the site's", xreg(rd(s.word)));
      break;
    case InsnClass::Adrp: {
      const uint64_t page = ~uint64_t{0xfff};
      spec.result_delta.emplace(rd(s.word), (s.site.value & page) - (s.slot.value & page));
      spec.result_value = adrp_value(s.word, s.site.value);
      spec.description += fmt::format("; then {} is moved from the slot's page to the site's", xreg(rd(s.word)));
      break;
    }
    case InsnClass::LdrLiteral: {
      const LiteralLoad load = literal_load(s.word);
      const uint8_t rt = rd(s.word);
      const uint8_t base = rt == kZeroRegister ? kScratchBase : rt;
      const uint64_t address = literal_address(s.word, s.site.value);
      spec.code = code_of(load.base_form | uint32_t{base} << 5 | rt);
      spec.scratch = ScratchBase{base, address, base == rt};
      spec.description += fmt::format("; as a load from {} through {}", hex(address), xreg(base));
      break;
    }
    case InsnClass::FpLiteral: {
      static constexpr uint32_t kFpBaseForm[3] = {
          0xbd400000,  // ldr sT, [xN]
          0xfd400000,  // ldr dT, [xN]
          0x3dc00000,  // ldr qT, [xN]
      };
      const unsigned opc = bits(s.word, 31, 30);
      if (opc == 3) return {nullptr, "an unallocated SIMD&FP literal load"};
      const uint64_t address = literal_address(s.word, s.site.value);
      spec.code = code_of(kFpBaseForm[opc] | uint32_t{kScratchBase} << 5 | rd(s.word));
      spec.scratch = ScratchBase{kScratchBase, address, false};
      spec.description += fmt::format("; as a load from {} through {}, restored after", hex(address), xreg(kScratchBase));
      break;
    }
    default: break;
  }
  return {std::make_unique<StepPlan>(std::move(spec)), {}};
}

// --- emulation ----------------------------------------------------------------

Built<ProbePlan> build_emulation(const Site& s) {
  const uint64_t next = s.next();
  const uint32_t w = s.word;
  switch (s.cls) {
    case InsnClass::B:
      return {std::make_unique<JumpEmulation>(fmt::format("emulated: b (jump to {})", hex(branch_target(s))),
                                              branch_target(s)),
              {}};
    case InsnClass::Bl:
      return {std::make_unique<JumpEmulation>(
                  fmt::format("emulated: bl (x30 = {}, jump to {})", hex(next), hex(branch_target(s))),
                  branch_target(s), next),
              {}};
    case InsnClass::BCond:
    case InsnClass::Cbz:
    case InsnClass::Tbz:
      return {std::make_unique<CondBranchEmulation>(
                  fmt::format("emulated: {} (jump to {} if taken, else continue at {})", s.mnemonic(),
                              hex(branch_target(s)), hex(next)),
                  condition_of(s), branch_target(s), next),
              {}};
    case InsnClass::Br:
      return {std::make_unique<RegisterBranchEmulation>(fmt::format("emulated: br (jump to {})", xreg(rn(w))),
                                                        rn(w), std::nullopt),
              {}};
    case InsnClass::Blr:
      return {std::make_unique<RegisterBranchEmulation>(
                  fmt::format("emulated: blr (x30 = {}, jump to {})", hex(next), xreg(rn(w))), rn(w), next),
              {}};
    case InsnClass::Ret:
      return {std::make_unique<RegisterBranchEmulation>(fmt::format("emulated: ret (jump to {})", xreg(rn(w))),
                                                        rn(w), std::nullopt),
              {}};
    case InsnClass::Adr:
    case InsnClass::Adrp: {
      const uint64_t value = s.cls == InsnClass::Adr ? adr_value(w, s.site.value) : adrp_value(w, s.site.value);
      return {std::make_unique<AddressEmulation>(
                  fmt::format("emulated: {} {}, {}", s.cls == InsnClass::Adr ? "adr" : "adrp", xreg(rd(w)), hex(value)),
                  rd(w), value, next),
              {}};
    }
    case InsnClass::LdrLiteral: {
      Built<StepPlan> fallback = build_step(s);
      if (!fallback.plan) return {nullptr, std::move(fallback.why_not)};
      const LiteralLoad load = literal_load(w);
      const uint64_t address = literal_address(w, s.site.value);
      const bool wide = load.bytes == 8 || load.sign_extend;
      return {std::make_unique<LiteralLoadEmulation>(
                  fmt::format("emulated: {} {}, [{}] ({} bytes)", load.sign_extend ? "ldrsw" : "ldr", xreg(rd(w), wide),
                              hex(address), load.bytes),
                  rd(w), address, load.bytes, load.sign_extend, next, std::move(fallback.plan)),
              {}};
    }
    case InsnClass::PrfmLiteral:
      return {std::make_unique<JumpEmulation>(
                  fmt::format("emulated: prfm (literal) has no architectural effect (continue at {})", hex(next)), next),
              {}};
    case InsnClass::Skip:
      return {std::make_unique<JumpEmulation>(fmt::format("emulated: {} (continue at {})", s.insn.text, hex(next)),
                                              next),
              {}};
    case InsnClass::FpLiteral:
      return {nullptr, "a SIMD&FP literal load cannot be emulated: the SIMD&FP registers are not in NT_PRSTATUS"};
    case InsnClass::AuthBranch:
    case InsnClass::AuthCall:
      return {nullptr, "a pointer-authenticated branch cannot be emulated: the tracer has no keys"};
    default: return {nullptr, fmt::format("{} cannot be emulated", s.mnemonic())};
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
  if (ctx.site.value % kInsnSize != 0 || offset % static_cast<int64_t>(kInsnSize) != 0) {
    return refuse(std::move(out), "the probe address is not 4-byte aligned: aarch64 instructions are");
  }
  const auto code = ctx.function_code.subspan(static_cast<size_t>(offset));
  const auto word = read_word(code);
  if (!word) return refuse(std::move(out), "the function's code ends inside the instruction at the probe address");

  const InsnRow* row = classify(*word);
  auto decoded = decoder.decode_one(code, ctx.site);
  if (decoded) {
    out.insn = std::move(*decoded);
  } else {
    out.insn = decoder.decode_all(code.first(kInsnSize), ctx.site).at(0);
  }
  if (is_refusal(row)) return refuse(std::move(out), row->reason);
  // Capstone's view decides validity, except for rows Capstone 4 does not know.
  if (!decoded && !row) return refuse(std::move(out), "undecodable instruction");
  if (auto start = exclusive_sequence_start(ctx.function_code, ctx.function_start, ctx.site)) {
    return refuse(std::move(out),
                  fmt::format("inside an exclusive load/store sequence (opened by the load-exclusive at +{:#x}): a "
                              "trap here clears the exclusive monitor, so its store-exclusive would fail every time "
                              "and the retry loop never end",
                              *start - ctx.function_start));
  }
  const Site site{*word, row, row ? row->cls : InsnClass::Plain, out.insn, ctx.site, ctx.slot};
  Built<StepPlan> step = build_step(site);
  // Jump first: no stop at all. The slot is the trampoline.
  std::string no_jump = fmt::format("{} mode was requested", to_string(ctx.request));
  if (ctx.request == ModeRequest::Auto || ctx.request == ModeRequest::Jump) {
    JumpBuild jump = step.plan ? build_jump(*word, step.plan->spec(), ctx, AArch64Isa::kSlotSize)
                               : JumpBuild{nullptr, step.why_not};
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
    out.declined.emplace_back(ExecMode::Jump, std::move(no_jump));
    return out;
  }

  if (!step.plan) return refuse(std::move(out), step.why_not);
  BoostBuild boost = ctx.request == ModeRequest::Trap          ? BoostBuild{nullptr, "trap mode was requested"}
                     : ctx.step == StepMechanism::TrailingTrap ? BoostBuild{nullptr, std::string(kNoFreeRunning)}
                                                               : build_boost(step.plan->spec());
  if (ctx.request == ModeRequest::Boost && !boost.plan) return refuse(std::move(out), "cannot boost: " + boost.why_not);
  out.declined.emplace_back(ExecMode::Emulate, emulation.plan ? fmt::format("{} mode was requested", to_string(ctx.request))
                                                              : emulation.why_not);
  if (boost.plan) {
    out.plan = std::move(boost.plan);
  } else {
    out.plan = std::move(step.plan);
    out.declined.emplace_back(ExecMode::Boost, std::move(boost.why_not));
  }
  out.declined.emplace_back(ExecMode::Jump, std::move(no_jump));
  return out;
}

}  // namespace uptrace::arch::aarch64
