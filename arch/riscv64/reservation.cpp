#include "arch/riscv64/reservation.h"

namespace uptrace::arch::riscv64 {

std::optional<RuntimeAddr> reservation_sequence_start(std::span<const Decoded> code, RuntimeAddr site) {
  std::optional<size_t> open;  // index of the lr of the sequence being walked through
  for (size_t i = 0; i < code.size(); ++i) {
    const Decoded& d = code[i];
    if (d.insn.address >= site) {
      if (d.insn.address != site || !open || i - *open >= kReservationWindow) return std::nullopt;
      return code[*open].insn.address;
    }
    if (!d.known()) continue;
    if (d.row->cls == InsnClass::LoadReserved) open = i;
    if (d.row->cls == InsnClass::StoreConditional) open.reset();
  }
  return std::nullopt;
}

}  // namespace uptrace::arch::riscv64
