#pragma once
// The two ways xol-diff runs an instruction from the same starting state:
// in place (one PTRACE_SINGLESTEP at its own address), and out of line
// exactly as uptrace's core does on a probe hit (on_probe_hit, on_signal,
// finish_step in core/tracer.cpp): begin_hit, then for a step plan one
// single step in the slot, then finish_step, or abort_step when the copy
// faulted at the slot.
#include <cstdint>

#include "arch/isa.h"
#include "child.h"
#include "memory_scene.h"
#include "outcome.h"

namespace xol_diff {

struct RunStart {
  const MachineState* state = nullptr;  // rip is set to site
  uint64_t site = 0;
  // popf or iret: after stepping it, single-step mode is left (Child::leave_single_step).
  bool sets_tf = false;
  // The instruction has no memory operand, so an int3 can guard the next
  // instruction's first byte to catch a lost single-step trap.
  uint8_t guard_length = 0;
};

// `pushf`: the instruction is pushf, whose pushed copy of EFLAGS would show
// the single step's own TF; it is cleared so the result is what the program
// gets when nobody steps it.
Outcome run_in_place(Child& child, MemoryScene& scene, const RunStart& start, bool pushf);

// The plan's slot code is written to the slot page first, as the core does
// when it arms the probe. `slot` is the plan's slot address.
Outcome run_out_of_line(Child& child, MemoryScene& scene, const RunStart& start, const uptrace::arch::ProbePlan& plan,
                        uint64_t slot);

}  // namespace xol_diff
