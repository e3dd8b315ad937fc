#include "arch/ppc64le/analyzer.h"

#include <memory>
#include <string>

#include <fmt/format.h>

#include "arch/ppc64le/boost.h"
#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/insn_table.h"
#include "arch/ppc64le/jump.h"
#include "arch/ppc64le/ppc64le_isa.h"
#include "arch/ppc64le/plans.h"
#include "arch/ppc64le/registers.h"
#include "arch/ppc64le/reservation.h"

namespace uptrace::arch::ppc64le {
namespace {

constexpr std::string_view kNoFreeRunning =
    "a thread in a free-running slot could not be stepped out without hardware single-step";
// Registers a rewritten pc-relative access may borrow as its base: never
// r0 (as RA it reads as zero), r1 (the stack) or r2 (the TOC).
constexpr uint8_t kScratchCandidates[] = {12, 11, 10, 9};

template <class T>
struct Built {
  std::unique_ptr<T> plan;
  std::string why_not;  // when plan is null
};

// What the plan builders need about the site.
struct Site {
  uint32_t word;    // the instruction, or the prefix of a prefixed one
  uint32_t suffix;  // the suffix of a prefixed one, else 0
  Classified cls;
  const Instruction& insn;
  RuntimeAddr site;
  RuntimeAddr slot;

  uint64_t next() const { return site.value + cls.length; }
  std::string_view mnemonic() const { return std::string_view(insn.text).substr(0, insn.text.find(' ')); }
};

std::string hex(uint64_t v) { return fmt::format("{:#x}", v); }

std::vector<uint8_t> code_of(std::initializer_list<uint32_t> words) {
  std::vector<uint8_t> out;
  for (uint32_t w : words) {
    const auto b = word_bytes(w);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

uint64_t pc_relative_address(const Site& s) {
  return s.site.value + static_cast<uint64_t>(prefixed_displacement(s.word, s.suffix));
}

// The prefixed pc-relative loads into a GPR: size and sign extension, by
// the row's name.
struct LoadForm {
  uint8_t bytes;
  bool sign_extend;
};
LoadForm load_form(std::string_view name) {
  if (name == "pld") return {8, false};
  if (name == "plwa") return {4, true};
  if (name == "plwz") return {4, false};
  if (name == "plha") return {2, true};
  if (name == "plhz") return {2, false};
  return {1, false};  // plbz
}

// --- stepping out of line -----------------------------------------------------

// A pc-relative access stepped as the same access through a base register
// that holds the address it would have used at the site.
Built<StepPlan> rewritten_step(const Site& s, StepSpec spec) {
  const unsigned t = rt(s.suffix);
  const uint64_t address = pc_relative_address(s);
  std::optional<uint8_t> base;
  bool is_result = false;
  if (s.cls.cls == InsnClass::PcRelLoad && t != 0) {
    base = static_cast<uint8_t>(t);  // the load overwrites it anyway
    is_result = true;
  } else {
    // Not the register the instruction names (or the second of a pair).
    for (uint8_t r : kScratchCandidates)
      if (r != t && r != t + 1) {
        base = r;
        break;
      }
  }
  const auto rewritten = with_base_register(s.word, s.suffix, *base);
  spec.code = code_of({rewritten[0], rewritten[1]});
  spec.scratch = ScratchBase{*base, address, is_result};
  spec.description += fmt::format("; as an access to {} through r{}{}", hex(address), *base,
                                  is_result ? "" : ", given back its value after");
  return {std::make_unique<StepPlan>(std::move(spec)), {}};
}

Built<StepPlan> build_step(const Site& s) {
  StepSpec spec;
  spec.site = s.site;
  spec.slot = s.slot;
  spec.length = s.cls.length;
  spec.code.assign(s.insn.bytes.begin(), s.insn.bytes.begin() + s.insn.length);
  spec.description = "single-step out of line";
  switch (s.cls.cls) {
    case InsnClass::Plain: break;
    case InsnClass::BranchTar:
      spec.keep_taken_pc = true;
      spec.rewrite_link = link_bit(s.word);
      spec.description += "; pc comes from TAR when taken, else moves to the next instruction";
      if (spec.rewrite_link) spec.description += fmt::format("; then LR is rewritten to {}", hex(s.next()));
      break;
    case InsnClass::PcRelLoad:
    case InsnClass::PcRelOther: return rewritten_step(s, std::move(spec));
    default:
      return {nullptr, fmt::format("{} depends on its own address: it is emulated, never stepped", s.mnemonic())};
  }
  return {std::make_unique<StepPlan>(std::move(spec)), {}};
}

// --- emulation ----------------------------------------------------------------

Built<ProbePlan> branch_emulation(const Site& s) {
  const uint32_t w = s.word;
  BranchSpec b;
  b.link = link_bit(w);
  b.next = s.next();
  std::string target;
  switch (s.cls.cls) {
    case InsnClass::Branch:
    case InsnClass::BranchCond:
      b.fixed = branch_target(w, s.site.value);
      target = hex(b.fixed);
      break;
    case InsnClass::BranchLr:
      b.target = BranchSpec::Target::Lr;
      target = "LR";
      break;
    default:  // BranchCtr
      b.target = BranchSpec::Target::Ctr;
      target = "CTR";
      if (!(rt(w) & 4)) return {nullptr, "bcctr with BO bit 2 clear (decrement CTR) is an invalid form"};
      break;
  }
  if (s.cls.cls != InsnClass::Branch) {
    b.bo = rt(w);
    b.bi = ra(w);
  }
  const bool always = (b.bo & 0x14) == 0x14;
  std::string what = always ? fmt::format("jump to {}", target)
                            : fmt::format("jump to {} if taken, else continue at {}", target, hex(b.next));
  if (b.link) what = fmt::format("LR = {}, {}", hex(b.next), what);
  return {std::make_unique<BranchEmulation>(fmt::format("emulated: {} ({})", s.insn.text, what), b), {}};
}

Built<ProbePlan> build_emulation(const Site& s) {
  switch (s.cls.cls) {
    case InsnClass::Branch:
    case InsnClass::BranchCond:
    case InsnClass::BranchLr:
    case InsnClass::BranchCtr: return branch_emulation(s);
    case InsnClass::Addpcis: {
      const uint64_t value = addpcis_value(s.word, s.site.value);
      return {std::make_unique<AddressEmulation>(fmt::format("emulated: {} (r{} = {})", s.insn.text, rt(s.word), hex(value)),
                                                 static_cast<uint8_t>(rt(s.word)), value, s.next()),
              {}};
    }
    case InsnClass::PcRelAddi: {
      const uint64_t value = pc_relative_address(s);
      return {std::make_unique<AddressEmulation>(
                  fmt::format("emulated: {} (r{} = {})", s.insn.text, rt(s.suffix), hex(value)),
                  static_cast<uint8_t>(rt(s.suffix)), value, s.next()),
              {}};
    }
    case InsnClass::PcRelLoad: {
      Built<StepPlan> fallback = build_step(s);
      if (!fallback.plan) return {nullptr, std::move(fallback.why_not)};
      const LoadForm form = load_form(s.cls.name);
      const uint64_t address = pc_relative_address(s);
      return {std::make_unique<PcRelLoadEmulation>(
                  fmt::format("emulated: {} ({} bytes from {}{})", s.insn.text, form.bytes, hex(address),
                              form.sign_extend ? ", sign-extended" : ""),
                  static_cast<uint8_t>(rt(s.suffix)), address, form.bytes, form.sign_extend, s.next(),
                  std::move(fallback.plan)),
              {}};
    }
    case InsnClass::BranchTar:
      return {nullptr, "a branch to TAR cannot be emulated: TAR is not in the registers ptrace gives (NT_PRSTATUS)"};
    case InsnClass::PcRelOther:
      return {nullptr, fmt::format("{} cannot be emulated: it stores, or loads into registers outside NT_PRSTATUS",
                                   s.mnemonic())};
    default: return {nullptr, fmt::format("{} cannot be emulated", s.mnemonic())};
  }
}

// --- jump ---------------------------------------------------------------------

// What the trampoline runs for the instruction, or why it cannot be
// displaced.
std::pair<Displaced, std::string> displaced_form(const Site& s) {
  using Branch = Displaced::Branch;
  Displaced d{s.word, s.cls.length, std::nullopt, std::nullopt, Branch::None};
  switch (s.cls.cls) {
    case InsnClass::Plain:
      if (s.cls.length == kPrefixedSize) d.suffix = s.suffix;
      return {d, {}};
    case InsnClass::Addpcis:
      d.value = {static_cast<uint8_t>(rt(s.word)), addpcis_value(s.word, s.site.value)};
      return {d, {}};
    case InsnClass::PcRelAddi:
      d.value = {static_cast<uint8_t>(rt(s.suffix)), pc_relative_address(s)};
      return {d, {}};
    case InsnClass::Branch: d.branch = Branch::Relative; return {d, {}};
    case InsnClass::BranchCond: d.branch = Branch::Conditional; return {d, {}};
    case InsnClass::BranchLr:
      d.branch = Branch::ToLr;
      if (link_bit(s.word))
        return {d, fmt::format("{} branches to LR and sets it: from the trampoline that needs a register the program "
                               "does not see, and it has none",
                               s.mnemonic())};
      return {d, {}};
    case InsnClass::BranchCtr:
    case InsnClass::BranchTar:
      d.branch = Branch::ToCtrOrTar;
      if (!(rt(s.word) & 4))
        return {d, fmt::format("{} with BO bit 2 clear (decrement CTR) is an invalid form", s.mnemonic())};
      return {d, {}};
    case InsnClass::PcRelLoad:
    case InsnClass::PcRelOther:
      return {d, fmt::format("{} accesses memory relative to its own address: jump on ppc64le displaces only "
                             "instructions that run the same anywhere, addpcis/pla and branches",
                             s.mnemonic())};
    default:
      return {d, fmt::format("{} cannot be displaced into a trampoline", s.mnemonic())};
  }
}

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
  if (ctx.site.value % kWordSize != 0 || offset % static_cast<int64_t>(kWordSize) != 0) {
    return refuse(std::move(out), "the probe address is not 4-byte aligned: ppc64 instructions are");
  }
  const auto code = ctx.function_code.subspan(static_cast<size_t>(offset));
  Classified cls;
  auto decoded = decoder.decode_one(code, ctx.site, &cls);
  if (!decoded) return refuse(std::move(out), "the function's code ends inside the instruction at the probe address");
  out.insn = std::move(*decoded);
  if (is_refused_class(cls.cls)) {
    // The row's reason is a predicate ("is already a trap instruction"):
    // the row's name is its subject.
    if (cls.cls == InsnClass::Undecodable || cls.name.empty()) return refuse(std::move(out), cls.reason);
    return refuse(std::move(out), fmt::format("{} {}", cls.name, cls.reason));
  }
  if (auto start = reservation_start(ctx.function_code, ctx.function_start, ctx.site)) {
    return refuse(std::move(out),
                  fmt::format("inside a load-reserve/store-conditional sequence (opened by the load-reserve at +{:#x}): "
                              "a trap here clears the reservation, so its store-conditional would fail every time and "
                              "the retry loop never end",
                              *start - ctx.function_start));
  }
  const uint32_t word = *read_word(code);
  const uint32_t suffix = cls.length == kPrefixedSize ? *read_word(code.subspan(kWordSize)) : 0;
  const Site site{word, suffix, cls, out.insn, ctx.site, ctx.slot};
  // Jump first: no stop at all. The slot is the trampoline.
  std::string no_jump = fmt::format("{} mode was requested", to_string(ctx.request));
  if (ctx.request == ModeRequest::Auto || ctx.request == ModeRequest::Jump) {
    auto [displaced, why_not_displaced] = displaced_form(site);
    JumpBuild jump = build_jump(displaced, why_not_displaced, ctx, Ppc64leIsa::kSlotSize);
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

  Built<StepPlan> step = build_step(site);
  // In auto mode an instruction that can be neither emulated nor stepped is
  // refused for why it cannot be emulated (an invalid bcctr form).
  if (!step.plan) return refuse(std::move(out), ctx.request == ModeRequest::Auto ? emulation.why_not : step.why_not);
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

}  // namespace uptrace::arch::ppc64le
