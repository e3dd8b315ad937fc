#include "arch/ppc64le/reservation.h"

#include <cstdint>

#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/insn_table.h"

namespace uptrace::arch::ppc64le {

std::optional<RuntimeAddr> reservation_start(std::span<const uint8_t> function_code, RuntimeAddr function_start,
                                             RuntimeAddr site) {
  const int64_t target = site - function_start;
  if (target < 0 || static_cast<uint64_t>(target) >= function_code.size()) return std::nullopt;
  // The offset of the open load-reserve, kNone when no window is open (a
  // plain value: GCC 12 at -O1 warns about std::optional here).
  constexpr size_t kNone = SIZE_MAX;
  size_t open = kNone;
  size_t inside = 0;
  size_t off = 0;
  while (off <= static_cast<size_t>(target) && off < function_code.size()) {
    const Classified c = classify_at(function_code.subspan(off), function_start.value + off);
    if (c.cls == InsnClass::LoadReserve) {
      open = off;
      inside = 0;
    }
    if (off == static_cast<size_t>(target)) {
      if (open == kNone) return std::nullopt;
      return function_start + open;
    }
    if (c.cls == InsnClass::StoreConditional || (open != kNone && ++inside > kReserveWindow)) open = kNone;
    off += c.length ? c.length : kWordSize;
  }
  return std::nullopt;
}

}  // namespace uptrace::arch::ppc64le
