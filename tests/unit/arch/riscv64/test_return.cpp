// FUNC%return on riscv64: the return address is in ra at the entry; the
// prologue's save slot comes from the CFI, as on aarch64.
#include <catch2/catch.hpp>

#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

TEST_CASE("riscv64 return: the return address is ra at the entry, and ret leaves sp as it was",
          "[arch][riscv64][return]") {
  CHECK(isa().return_address_name() == "ra");
  Regs r;
  r.words[kSp] = 0x3ffffff000;
  r.words[kRa] = 0x400abc;
  const ReturnAddressSlot slot = isa().return_address_slot(r);
  CHECK(slot.kind == ReturnAddressSlot::Kind::Register);
  CHECK(slot.reg.word == 1);
  CHECK(slot.reg.bits == 64);
  CHECK(slot.reg.shift == 0);
  CHECK(read_register(r, slot.reg) == 0x400abc);
  CHECK(isa().sp_after_return(0x3ffffff000) == 0x3ffffff000);
  // $retval is a0.
  CHECK(isa().return_value().word == 10);
  // The CFI's return-address column (1, ra) and its CFA register (2, sp).
  CHECK(isa().dwarf_register(1)->word == slot.reg.word);
  CHECK(isa().dwarf_register(2)->word == isa().sp_word());
}

TEST_CASE("riscv64 return: no function is refused for protecting its return address", "[arch][riscv64][return]") {
  // GCC 14 -O1: addi sp, sp, -16; sd ra, 8(sp); call; ld ra, 8(sp); addi sp, sp, 16; ret
  const Bytes code = insns({0x1141, 0xe406, 0x00000097, 0x000080e7, 0x60a2, 0x0141, 0x8082});
  const auto decoded = isa().decode(code, RuntimeAddr(kSite));
  REQUIRE(decoded.size() == 7);
  CHECK(isa().return_hijack_refusal(decoded).empty());
  CHECK(isa().return_hijack_refusal({}).empty());
}
