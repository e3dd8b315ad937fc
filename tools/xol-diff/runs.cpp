#include "runs.h"

#include <signal.h>

#include <algorithm>
#include <exception>

#include <fmt/format.h>

#include "arch/x86_64/registers.h"
#include "arch/x86_64/x86_64_isa.h"

namespace xol_diff {
namespace {

namespace x86 = uptrace::arch::x86_64;
using uptrace::arch::HitAction;
using uptrace::arch::Regs;
using uptrace::arch::StepState;

constexpr int kTrapTrace = 2;  // TRAP_TRACE
constexpr int kSiKernel = 0x80;  // SI_KERNEL: int3

// As core/tracer.cpp's is_fault_signal.
bool is_fault_signal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

MachineState at_site(const RunStart& start) {
  MachineState s = *start.state;
  s.regs.words[x86::kRip] = start.site;
  return s;
}

// A run that went wrong; what it wrote is recorded so the next run starts clean.
Outcome broken(Child& child, MemoryScene& scene, std::string note) {
  Outcome o;
  o.kind = Outcome::Kind::Broken;
  o.note = std::move(note);
  if (child.alive()) scene.capture(child);
  return o;
}

Outcome finish(Child& child, MemoryScene& scene, const RunStart& start, Outcome o) {
  child.get_state(o.state);
  o.memory = scene.capture(child);
  if (start.sets_tf) child.leave_single_step();
  return o;
}

void fill_fault(Outcome& o, const StepResult& r) {
  o.kind = Outcome::Kind::Fault;
  o.signal = r.signal;
  o.fault_code = r.info.si_code;
  o.fault_addr = reinterpret_cast<uint64_t>(r.info.si_addr);
}

}  // namespace

Outcome run_in_place(Child& child, MemoryScene& scene, const RunStart& start, bool pushf) {
  scene.reset(child);
  child.set_state(at_site(start));
  // An int3 right after the instruction: reached only if the step's trap is lost.
  const uptrace::RuntimeAddr next(start.site + start.guard_length);
  uint8_t original = 0, int3 = 0xcc;
  const bool guarded = start.guard_length > 0 && child.memory().read(next, {&original, 1}) &&
                       child.memory().write(next, {&int3, 1});
  const StepResult r = child.single_step();
  if (guarded && child.alive()) child.memory().write(next, {&original, 1});
  if (r.kind == StepResult::Kind::Gone) return broken(child, scene, "the child died");
  Outcome o;
  if (r.signal == SIGTRAP && r.info.si_code == kTrapTrace) {
    o.kind = Outcome::Kind::Completed;
    if (pushf) {
      Regs regs;
      child.get_regs(regs);
      uint8_t low[2];
      if (child.memory().read(uptrace::RuntimeAddr(regs.words[x86::kRsp]), low)) {
        low[1] &= static_cast<uint8_t>(~(x86::flags::kTF >> 8));
        child.memory().write(uptrace::RuntimeAddr(regs.words[x86::kRsp]), low);
      }
    }
  } else {
    fill_fault(o, r);
  }
  o = finish(child, scene, start, std::move(o));
  if (guarded && o.kind == Outcome::Kind::Fault && o.signal == SIGTRAP && o.fault_code == kSiKernel &&
      o.state.regs.words[x86::kRip] == next.value + 1) {
    o.kind = Outcome::Kind::Broken;
    o.step_lost = true;
    o.note = "no single-step trap after the instruction: it ran on into the next one";
  }
  return o;
}

Outcome run_out_of_line(Child& child, MemoryScene& scene, const RunStart& start, const uptrace::arch::ProbePlan& plan,
                        uint64_t slot) {
  const auto& isa = x86::x86_64_isa();
  // Arming: the slot holds the plan's code; past it, traps.
  const auto code = plan.slot_code();
  auto page = child.slot_page();
  std::fill(page.begin(), page.end(), uint8_t{0xcc});
  std::copy(code.begin(), code.end(), page.begin() + static_cast<ptrdiff_t>(slot % Layout::kSlotPageSize));

  scene.reset(child);
  const MachineState initial = at_site(start);
  child.set_state(initial);
  try {
    // on_probe_hit: regs as at the trap with pc set back to the site.
    Regs regs = initial.regs;
    StepState step;
    const HitAction action = plan.begin_hit(regs, child.memory(), step);
    child.set_regs(regs);
    Outcome o;
    o.kind = Outcome::Kind::Completed;
    if (action == HitAction::Resume) {
      // The program runs on. A plan that resumed into its slot (boost) runs
      // the slot's code until pc leaves the slot page.
      for (int i = 0; i < 16 && regs.words[x86::kRip] / Layout::kSlotPageSize == slot / Layout::kSlotPageSize; ++i) {
        const StepResult r = child.single_step();
        if (r.kind == StepResult::Kind::Gone) return broken(child, scene, "the child died in the slot");
        child.get_regs(regs);
        if (r.signal != SIGTRAP || r.info.si_code != kTrapTrace) {
          fill_fault(o, r);
          break;
        }
      }
      return finish(child, scene, start, std::move(o));
    }

    const StepResult r = child.single_step();
    if (r.kind == StepResult::Kind::Gone) return broken(child, scene, "the child died in the slot");
    child.get_regs(regs);
    // on_signal, with the thread's pc in the slot.
    if (r.signal == SIGTRAP && isa.is_step_trap(r.info.si_code)) {
      plan.finish_step(regs, child.memory(), step);
      child.set_regs(regs);
      return finish(child, scene, start, std::move(o));
    }
    if (r.info.si_code > 0 && is_fault_signal(r.signal) && isa.pc(regs) == slot) {
      plan.abort_step(regs, step);
      child.set_regs(regs);
      fill_fault(o, r);
      if (o.fault_addr == slot) o.fault_addr = start.site;
      return finish(child, scene, start, std::move(o));
    }
    // The core would hold this signal and step again.
    return broken(child, scene, fmt::format("the core would not handle signal {} (fault_code {}) at pc {:#x} in the slot at {:#x}",
                              r.signal, r.info.si_code, isa.pc(regs), slot));
  } catch (const std::exception& e) {
    return broken(child, scene, fmt::format("the plan failed: {}", e.what()));
  }
}

}  // namespace xol_diff
