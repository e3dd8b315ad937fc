#pragma once
// The sacrificial child: a forked process, stopped under ptrace, that has
// the ELF file's segments mapped at their runtime addresses, the sandbox and
// stack (shared with xol-diff, so resetting and comparing them costs no
// system call), and the slot page mapped read+execute twice, near the image
// and far from it. It never runs its own code again: xol-diff only sets its
// state and single-steps one instruction at a time.
#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>

#include "core/tracee_memory.h"
#include "layout.h"
#include "machine_state.h"

namespace xol_diff {

struct StepResult {
  enum class Kind : uint8_t { Signal, Gone };
  Kind kind = Kind::Gone;
  int signal = 0;
  siginfo_t info{};
};

class Child {
 public:
  // Forks and sets up a child pinned to `cpu`; throws std::runtime_error.
  Child(const Layout& layout, int cpu);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The state the child stopped in (selectors, XSAVE layout).
  const MachineState& own_state() const { return own_; }
  // False once the child died (it is then of no further use).
  bool alive() const { return pid_ > 0; }

  void set_state(const MachineState& s);
  void get_state(MachineState& s);
  void set_regs(const uptrace::arch::Regs& r);
  void get_regs(uptrace::arch::Regs& r);
  StepResult single_step();
  // Leaves single-step mode the way a tracer's PTRACE_CONT does, by letting
  // the child run into a trap in the slot page. Needed after a step of popf:
  // the kernel then stops hiding the TF it sets for PTRACE_SINGLESTEP until
  // stepping is turned off, and xol-diff only ever steps.
  void leave_single_step();

  // The shared views: writes here are what the child sees.
  std::span<uint8_t> sandbox() { return {sandbox_, Layout::kSandboxSize}; }
  std::span<uint8_t> stack() { return {stack_, Layout::kStackSize}; }
  std::span<uint8_t> slot_page() { return {slot_, Layout::kSlotPageSize}; }

  // The child's memory as the core sees a tracee's (the plans use this).
  uptrace::MemoryAccess& memory() { return *memory_; }
  // The readable prefix of [addr, addr + out.size()).
  size_t read_some(uint64_t addr, std::span<uint8_t> out);

 private:
  void spawn(int cpu);
  void reap();

  const Layout& layout_;
  pid_t pid_ = -1;
  int sandbox_fd_ = -1, stack_fd_ = -1, slot_fd_ = -1;
  uint8_t* sandbox_ = nullptr;
  uint8_t* stack_ = nullptr;
  uint8_t* slot_ = nullptr;
  std::unique_ptr<uptrace::core::TraceeMemory> memory_;
  MachineState own_;
};

}  // namespace xol_diff
