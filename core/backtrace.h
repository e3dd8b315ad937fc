#pragma once
// --stack: the call stack of a thread stopped at a hit, via libdwfl. uptrace
// already holds the thread in a ptrace-stop, so libdwfl is given the state
// through its own callbacks (dwfl_attach_state) — registers from the hit,
// memory through /proc/PID/mem — instead of attaching itself
// (dwfl_linux_proc_attach would try to ptrace the thread again). libdwfl
// unwinds by CFI (.eh_frame, .debug_frame) and, where there is none, by
// frame pointers. Return addresses hijacked by %return read as the real
// ones, so the trampoline never shows and unwinding goes on past it.
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "core/address_space.h"
#include "core/return_probes.h"
#include "core/thread.h"

namespace uptrace::core {

class Backtracer {
 public:
  // Frames beyond this many are left out (man page: --stack).
  static constexpr size_t kMaxFrames = 32;

  explicit Backtracer(const arch::Isa& isa);
  ~Backtracer();
  Backtracer(const Backtracer&) = delete;
  Backtracer& operator=(const Backtracer&) = delete;

  // The frames of `t` with registers `regs`, innermost first, as
  // "func+0x4 (/path/module)" ("0x7f.. (/path/module)" without a symbol,
  // "0x7f.." outside any module). Empty when the ISA cannot be unwound.
  void capture(const Thread& t, AddressSpace& space, const arch::Regs& regs, const ReturnProbes& returns,
               std::vector<std::string>& out);

  struct Session;  // one libdwfl session per process

 private:
  const arch::Isa& isa_;
  std::map<pid_t, std::unique_ptr<Session>> sessions_;
};

}  // namespace uptrace::core
