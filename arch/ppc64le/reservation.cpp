#include "arch/ppc64le/reservation.h"

#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/insn_table.h"

namespace uptrace::arch::ppc64le {

std::optional<RuntimeAddr> reservation_start(std::span<const uint8_t> function_code, RuntimeAddr function_start,
                                             RuntimeAddr site) {
  const int64_t target = site - function_start;
  if (target < 0 || static_cast<uint64_t>(target) >= function_code.size()) return std::nullopt;
  std::optional<size_t> open;
  size_t inside = 0;
  size_t off = 0;
  while (off <= static_cast<size_t>(target) && off < function_code.size()) {
    const Classified c = classify_at(function_code.subspan(off), function_start.value + off);
    if (c.cls == InsnClass::LoadReserve) {
      open = off;
      inside = 0;
    }
    if (off == static_cast<size_t>(target)) return open ? std::optional(function_start + *open) : std::nullopt;
    if (c.cls == InsnClass::StoreConditional || (open && ++inside > kReserveWindow)) open.reset();
    off += c.length ? c.length : kWordSize;
  }
  return std::nullopt;
}

}  // namespace uptrace::arch::ppc64le
