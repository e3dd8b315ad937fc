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
};

}  // namespace uptrace
