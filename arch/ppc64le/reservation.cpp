#include "arch/ppc64le/reservation.h"

#include <cstdint>

#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/insn_table.h"

namespace uptrace::arch::ppc64le {

std::optional<RuntimeAddr> reservation_start(std::span<const uint8_t> function_code, RuntimeAddr function_start,
                                             RuntimeAddr site) {
  auto classify = [&](std::span<const uint8_t> code) {
    const Classified c = classify_at(code, function_start.value + static_cast<uint64_t>(code.data() - function_code.data()));
    const ExclusiveStep::Kind kind = c.cls == InsnClass::LoadReserve        ? ExclusiveStep::Kind::Open
                                     : c.cls == InsnClass::StoreConditional ? ExclusiveStep::Kind::Close
                                                                            : ExclusiveStep::Kind::Other;
    return ExclusiveStep{c.length ? c.length : kWordSize, kind};
  };
  return exclusive_sequence_start(function_code, function_start, site, classify, kReserveWindow);
}

}  // namespace uptrace::arch::ppc64le
