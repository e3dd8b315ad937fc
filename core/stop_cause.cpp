#include "core/stop_cause.h"

#include <array>

namespace uptrace::core {

namespace {

Classified make(StopCause cause, int site = -1, RuntimeAddr trap = RuntimeAddr(0), uint64_t original_pc = 0) {
  Classified c;
  c.cause = cause;
  c.site = site;
  c.trap = trap;
  c.original_pc = original_pc;
  return c;
}

constexpr std::array<std::string_view, 12> kNames = {
    "probe trap",        "return trap",    "ring full",     "step done",    "fault in the copy", "signal during a step",
    "fault in a slot",   "signal in a slot", "step in a slot", "left a slot", "foreign trap",      "plain signal"};

// Inside a free-running (boost, jump) slot, or leaving one.
Classified in_free_running_slot(const arch::Isa& isa, const Thread& t, const AddressSpace& space,
                                const StopFacts& f) {
  const bool leaving = t.xol == XolState::LeavingSlot;
  const ArmedSite* owner = space.slot_owner(f.pc, isa.slot_size());
  const bool our_step = leaving && ends_single_step(isa, space, f);
  if (!owner) return make(leaving ? StopCause::LeftSlot : StopCause::PlainSignal);
  const int site = static_cast<int>(owner - space.sites.data());
  if (our_step) return make(StopCause::StepInSlot, site);
  if (f.si.si_code > 0 && is_fault_signal(f.signal))
    if (auto original = owner->plan->original_pc(f.pc)) return make(StopCause::FaultInSlot, site, RuntimeAddr(0), *original);
  return make(StopCause::SignalInSlot, site);
}

Classified while_stepping(const arch::Isa& isa, arch::StepMechanism mechanism, const Thread& t,
                          const AddressSpace& space, const StopFacts& f) {
  const ArmedSite& site = space.sites[static_cast<size_t>(t.stepping_site)];
  if (f.signal == SIGTRAP) {
    if (mechanism == arch::StepMechanism::HardwareStep && isa.is_step_trap(f.si.si_code)) return make(StopCause::StepDone);
    if (mechanism == arch::StepMechanism::TrailingTrap)
      if (auto bp = isa.breakpoint_address(f.pc, f.si.si_code); bp && site.plan->is_step_end_trap(*bp))
        return make(StopCause::StepDone, -1, *bp);
  }
  // A fault where the copy starts, or (a riscv64 jump's stepped form, run
  // from the middle of its trampoline) wherever the plan says the thread is
  // as at the site: run on, it would fault again, for ever.
  if (f.si.si_code > 0 && is_fault_signal(f.signal) &&
      (f.pc == t.stepping_from || site.plan->original_pc(f.pc) == site.addr.value ||
       site.plan->is_displaced_copy(f.pc)))
    return make(StopCause::FaultInCopy);
  return make(StopCause::SignalDuringStep);
}

}  // namespace

std::string_view to_string(StopCause cause) { return kNames.at(static_cast<size_t>(cause)); }

bool ends_single_step(const arch::Isa& isa, const AddressSpace& space, const StopFacts& f) {
  if (f.signal != SIGTRAP) return false;
  if (isa.is_step_trap(f.si.si_code)) return true;
  const ArmedSite* owner = space.slot_owner(f.pc, isa.slot_size());
  return owner && isa.is_syscall_step_trap(f.si.si_code) && owner->plan->follows_syscall(f.pc);
}

bool is_fault_signal(int signal) {
  return signal == SIGSEGV || signal == SIGBUS || signal == SIGILL || signal == SIGFPE || signal == SIGTRAP;
}

Classified classify(const arch::Isa& isa, arch::StepMechanism mechanism, const Thread& t, const AddressSpace* space,
                    const StopFacts& f) {
  if (!space) return make(f.signal == SIGTRAP ? StopCause::ForeignTrap : StopCause::PlainSignal);
  if (t.stepping() && t.stepping_site >= 0 && static_cast<size_t>(t.stepping_site) < space->sites.size())
    return while_stepping(isa, mechanism, t, *space, f);
  std::optional<RuntimeAddr> bp;
  if (f.signal == SIGTRAP) bp = isa.breakpoint_address(f.pc, f.si.si_code);
  if (space->free_running) {
    if (bp.has_value())
      if (const ArmedSite* owner = space->slot_owner(bp->value, isa.slot_size()); owner && owner->plan->is_ring_full_trap(*bp))
        return make(StopCause::RingFull, static_cast<int>(owner - space->sites.data()), *bp);
    Classified c = in_free_running_slot(isa, t, *space, f);
    if (c.cause != StopCause::PlainSignal) return c;
  }
  if (bp) {
    if (space->return_trampoline.value && *bp == space->return_trampoline) return make(StopCause::ReturnTrap);
    if (const int site = space->site_index(*bp); site >= 0) return make(StopCause::ProbeTrap, site);
  }
  return make(f.signal == SIGTRAP ? StopCause::ForeignTrap : StopCause::PlainSignal);
}

}  // namespace uptrace::core
