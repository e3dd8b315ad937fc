#include "arch/riscv64/reservation.h"

#include "arch/exclusive_scan.h"
#include "arch/riscv64/decoder.h"

namespace uptrace::arch::riscv64 {

std::optional<RuntimeAddr> reservation_sequence_start(std::span<const uint8_t> function_code,
                                                      RuntimeAddr function_start, RuntimeAddr site) {
  auto classify = [&](std::span<const uint8_t> code) {
    const auto d = decode_one(code, function_start + static_cast<uint64_t>(code.data() - function_code.data()));
    if (!d) return ExclusiveStep{};  // length 0: the scan stops
    ExclusiveStep step{d->insn.length, ExclusiveStep::Kind::Other};
    if (d->known() && d->row->cls == InsnClass::LoadReserved) step.kind = ExclusiveStep::Kind::Open;
    if (d->known() && d->row->cls == InsnClass::StoreConditional) step.kind = ExclusiveStep::Kind::Close;
    return step;
  };
  // The scan's window counts the instructions from the lr up to, not
  // including, the site: at most 15 of the sequence's 16.
  return exclusive_sequence_start(function_code, function_start, site, classify, kReservationWindow - 1);
}

}  // namespace uptrace::arch::riscv64
