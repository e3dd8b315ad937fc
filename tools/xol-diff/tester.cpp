#include "tester.h"

#include <algorithm>

#include <fmt/format.h>

#include "arch/x86_64/registers.h"
#include "arch/x86_64/x86_64_isa.h"
#include "insn_class.h"
#include "mutation.h"
#include "outcome.h"
#include "runs.h"

namespace xol_diff {
namespace {

namespace x86 = uptrace::arch::x86_64;
using uptrace::RuntimeAddr;
using uptrace::arch::ExecMode;
using uptrace::arch::ModeRequest;
using uptrace::arch::SiteAnalysis;
using uptrace::arch::SiteContext;

std::string hex_bytes(std::span<const uint8_t> code) {
  std::string out;
  for (uint8_t b : code) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", b);
  return out;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace

struct Tester::Plan {
  std::string label;
  std::unique_ptr<uptrace::arch::ProbePlan> plan;
  uint64_t slot = 0;
};

struct Tester::Start {
  std::string label;
  MachineState state;
};

Tester::Tester(const Corpus& corpus, const Layout& layout, const FactsDecoder& decoder, int cpu, bool mutate)
    : corpus_(corpus), layout_(layout), decoder_(decoder), cpu_(cpu), mutate_(mutate) {}

Tester::~Tester() = default;

void Tester::ensure_child() {
  if (child_ && child_->alive()) return;
  scene_.reset();
  child_.reset();
  child_ = std::make_unique<Child>(layout_, cpu_);
  scene_ = std::make_unique<MemoryScene>();
  base_ = std::make_unique<MachineState>(base_state(child_->own_state()));
}

Verdict Tester::test(const Boundary& b) {
  const FunctionCode& fn = corpus_.functions[b.function];
  const size_t off = b.addr - fn.start;
  const auto rest = std::span<const uint8_t>(fn.bytes).subspan(off, std::min<size_t>(15, fn.bytes.size() - off));
  const uint64_t site = layout_.runtime(b.addr);
  const auto& isa = x86::x86_64_isa();

  Verdict v;
  v.addr = b.addr;
  v.where = off ? fmt::format("{}+{:#x}", fn.name, off) : fn.name;
  v.bytes = hex_bytes(rest.first(b.length ? b.length : std::min<size_t>(rest.size(), 4)));

  auto analyze = [&](uint64_t slot, ModeRequest request) {
    SiteContext ctx{RuntimeAddr(layout_.runtime(fn.start)), fn.bytes, RuntimeAddr(site), RuntimeAddr(slot), request};
    return isa.analyze(ctx);
  };
  // The tester plays the CPU one step at a time, so it runs what stops:
  // emulation where there is one, else the single-stepped copy. Boost and
  // jump plans are only checked to be made (their code runs unwatched).
  auto stopping = [&](uint64_t slot) {
    SiteAnalysis emulated = analyze(slot, ModeRequest::Emulate);
    return emulated.plan ? std::move(emulated) : analyze(slot, ModeRequest::Trap);
  };
  SiteAnalysis near = stopping(layout_.near_slot);

  const auto facts = decoder_.decode(rest, site);
  if (!facts) {
    v.status = Verdict::Status::Skipped;
    v.cls = kUndecodableClass;
    v.text = "(bad)";
    v.reason = near.plan ? "Capstone 4 cannot decode it" : "Capstone 4 cannot decode it; uptrace refuses: " + near.refusal;
    return v;
  }
  v.text = facts->text;
  const ClassInfo cls = classify_insn(rest.first(facts->length), facts->rip_relative());
  v.cls = cls.name;
  if (!near.plan) {
    v.status = Verdict::Status::Refused;
    v.reason = near.refusal;
    return v;
  }
  v.mode = std::string(uptrace::arch::to_string(near.plan->mode()));
  v.status = Verdict::Status::Executed;

  std::vector<Plan> plans;
  const auto near_code = near.plan->slot_code();
  plans.push_back({"auto", std::move(near.plan), layout_.near_slot});
  auto add_far = [&](ModeRequest request, const std::vector<uint8_t>& near_code_of_mode, const std::string& label) {
    SiteAnalysis far = request == ModeRequest::Auto ? stopping(Layout::kFarSlot) : analyze(Layout::kFarSlot, request);
    if (!far.plan) {
      v.notes.push_back(fmt::format("{} plan with the slot far away refused: {}", label, far.refusal));
    } else if (far.plan->slot_code() != near_code_of_mode) {
      plans.push_back({label + ", far slot", std::move(far.plan), Layout::kFarSlot});
    }
  };
  add_far(ModeRequest::Auto, near_code, "auto");
  if (plans.front().plan->mode() == ExecMode::Emulate) {
    SiteAnalysis trap = analyze(layout_.near_slot, ModeRequest::Trap);
    if (trap.plan) {
      const auto trap_code = trap.plan->slot_code();
      plans.push_back({"trap", std::move(trap.plan), layout_.near_slot});
      add_far(ModeRequest::Trap, trap_code, "trap");
    } else {
      v.notes.push_back("trap plan refused: " + trap.refusal);
    }
  }

  for (const auto& [request, name] : {std::pair{ModeRequest::Boost, "boost"}, std::pair{ModeRequest::Jump, "jump"}}) {
    SiteAnalysis faster = analyze(layout_.near_slot, request);
    v.modes.push_back(fmt::format("{}: {}", name, faster.plan ? "planned" : faster.refusal));
  }

  if (mutate_) {
    for (Plan& p : plans) p.plan = mutated(std::move(p.plan));
  }

  ensure_child();
  std::vector<Start> starts;
  starts.push_back({"", *base_});
  if (cls.conditional()) {
    Start alt{"other flags", *base_};
    alt.state.regs.words[x86::kEflags] = 0xa02;  // OF only
    if (cls.cls == x86::InsnClass::Loop) alt.state.regs.words[x86::kRcx] = 1;
    if (cls.cls == x86::InsnClass::Jrcxz) alt.state.regs.words[x86::kRcx] = 0;
    starts.push_back(std::move(alt));
  }
  if (cls.stack_class()) {
    Start bad{"unmapped stack", *base_};
    bad.state.regs.words[x86::kRsp] = Layout::kUnmapped + 0x8000;
    starts.push_back(std::move(bad));
  }
  if (cls.cls == x86::InsnClass::Ret) {
    // The odd words of the stack pattern are not canonical addresses.
    Start wild{"non-canonical return address", *base_};
    wild.state.regs.words[x86::kRsp] += 8;
    starts.push_back(std::move(wild));
  }
  for (const Start& s : starts) {
    if (v.status != Verdict::Status::Executed) break;
    run_start(s, plans, *facts, v);
    if (!child_->alive()) ensure_child();
  }
  return v;
}

void Tester::run_start(const Start& start, const std::vector<Plan>& plans, const InsnFacts& facts, Verdict& v) {
  const uint64_t site = layout_.runtime(v.addr);
  std::vector<uint64_t> watched;
  for (const MemoryOperand& op : facts.memory) {
    const auto ea = decoder_.effective_address(facts, op, start.state.regs, site);
    if (ea && !layout_.in_sandbox(*ea) && !layout_.in_stack(*ea)) watched.push_back(*ea);
  }
  scene_->watch(*child_, watched);
  const bool sets_tf = facts.mnemonic.starts_with("popf") || facts.mnemonic.starts_with("iret");
  const RunStart run{&start.state, site, sets_tf, facts.memory.empty() ? facts.length : uint8_t{0}};
  const bool pushf = facts.mnemonic == "pushfq" || facts.mnemonic == "pushf";
  const Outcome in_place = run_in_place(*child_, *scene_, run, pushf);
  if (start.label.empty()) v.faulted = in_place.kind == Outcome::Kind::Fault;
  if (in_place.step_lost) {
    // No reference to compare with; uptrace would run past the slot here too.
    v.status = Verdict::Status::Skipped;
    v.reason = "the single-step trap after it is lost on this machine (a hypervisor emulates it): no in-place reference";
    return;
  }
  const Unreproducible ignore{facts.nondeterministic_words, facts.nondeterministic_flags};
  for (const Plan& p : plans) {
    if (!child_->alive()) ensure_child();
    const Outcome out = run_out_of_line(*child_, *scene_, run, *p.plan, p.slot);
    ++v.out_of_line_runs;
    const auto diffs = compare(in_place, out, ignore);
    if (!diffs.empty()) {
      const std::string label = start.label.empty() ? p.label : p.label + ", " + start.label;
      v.mismatches.push_back(fmt::format("[{}] {}: {}", label, p.plan->describe(), join(diffs)));
    }
  }
}

}  // namespace xol_diff
