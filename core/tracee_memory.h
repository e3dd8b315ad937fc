#pragma once
// The memory of one traced process through /proc/PID/mem, which (unlike
// process_vm_writev) may write to read-only text pages, as ptrace pokes do,
// but a whole range per system call.
#include <sys/types.h>

#include <string>

#include "common/memory.h"
#include "core/unique_fd.h"

namespace uptrace::core {

class TraceeMemory final : public MemoryAccess {
 public:
  explicit TraceeMemory(pid_t pid);  // throws Error naming the pid and errno
  pid_t pid() const { return pid_; }

  bool read(RuntimeAddr addr, std::span<uint8_t> out) override;
  bool write(RuntimeAddr addr, std::span<const uint8_t> bytes) override;
  // As write(), but throws Error naming the address on failure.
  void write_or_throw(RuntimeAddr addr, std::span<const uint8_t> bytes);
  MemoryAccess& as_program_sees() override { return program_view_; }

 private:
  // process_vm_readv/writev pin pages without FOLL_FORCE, so page
  // protections hold as they do for the program.
  class ProgramView final : public MemoryAccess {
   public:
    explicit ProgramView(pid_t pid) : pid_(pid) {}
    bool read(RuntimeAddr addr, std::span<uint8_t> out) override;
    bool write(RuntimeAddr addr, std::span<const uint8_t> bytes) override;

   private:
    pid_t pid_;
  };

  pid_t pid_;
  UniqueFd fd_;
  ProgramView program_view_;
};

}  // namespace uptrace::core
