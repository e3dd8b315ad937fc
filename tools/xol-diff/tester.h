#pragma once
// Tests one instruction boundary: asks uptrace's x86-64 analysis for its
// plan, and for an executable plan runs the instruction in place and out of
// line from the same starting states, comparing each pair. Besides the plan
// the core would use (auto mode, slot near the image) it also runs: the same
// with the slot far away when that changes the slot code (scratch-register
// path), the trap-mode plan of emulated instructions (their step path), a
// second flags/rcx state for conditional branches, and a bad stack pointer
// (and a non-canonical return address for ret) for the stack classes, whose
// emulations fall back to stepping.
#include <memory>

#include "child.h"
#include "corpus.h"
#include "insn_facts.h"
#include "layout.h"
#include "memory_scene.h"
#include "verdict.h"

namespace xol_diff {

class Tester {
 public:
  // `mutate`: test deliberately broken plans (mutation.h).
  Tester(const Corpus& corpus, const Layout& layout, const FactsDecoder& decoder, int cpu, bool mutate);
  ~Tester();
  Verdict test(const Boundary& b);

 private:
  struct Plan;
  struct Start;
  void ensure_child();
  void run_start(const Start& start, const std::vector<Plan>& plans, const InsnFacts& facts, Verdict& v);

  const Corpus& corpus_;
  const Layout& layout_;
  const FactsDecoder& decoder_;
  int cpu_;
  bool mutate_;
  std::unique_ptr<Child> child_;
  std::unique_ptr<MemoryScene> scene_;
  std::unique_ptr<MachineState> base_;
};

}  // namespace xol_diff
