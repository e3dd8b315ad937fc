#pragma once
// Access to the memory of the traced process, as the arch emulators and the
// fetch-argument evaluator see it. core/ implements it over /proc/PID/mem;
// tests implement it over a buffer.
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/address.h"

namespace uptrace {

class MemoryAccess {
 public:
  virtual ~MemoryAccess() = default;
  // Both return false, touching nothing the caller can see, when any byte of
  // the range is not accessible.
  virtual bool read(RuntimeAddr addr, std::span<uint8_t> out) = 0;
  virtual bool write(RuntimeAddr addr, std::span<const uint8_t> bytes) = 0;
  // The same memory as the program's own loads and stores see it: a page it
  // may not read or write (a PROT_NONE stack guard, read-only data) fails
  // here, where a tracer's access (as through /proc/PID/mem) goes through.
  // What emulates an instruction must use this view, or it would do what the
  // CPU refuses (push into a guard page instead of faulting).
  virtual MemoryAccess& as_program_sees() { return *this; }
};

}  // namespace uptrace
