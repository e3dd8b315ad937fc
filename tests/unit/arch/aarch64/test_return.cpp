// FUNC%return on aarch64: where the return address is at the entry, and the
// pointer-authentication instructions that make uptrace refuse a function.
// Words cross-checked with aarch64-linux-gnu-as -march=armv8.5-a / objdump.
#include <catch2/catch.hpp>

#include "arch/aarch64/pointer_auth.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::aarch64;
using namespace uptrace::arch::aarch64::test;

TEST_CASE("aarch64 return: the return address is x30 at the entry, and ret leaves sp as it was", "[arch][aarch64][return]") {
  CHECK(isa().return_address_name() == "x30");
  Regs r;
  r.words[kSp] = 0x7ffff000;
  r.words[kLr] = 0x400abc;
  const ReturnAddressSlot slot = isa().return_address_slot(r);
  CHECK(slot.kind == ReturnAddressSlot::Kind::Register);
  CHECK(slot.reg.word == 30);
  CHECK(slot.reg.bits == 64);
  CHECK(slot.reg.shift == 0);
  CHECK(read_register(r, slot.reg) == 0x400abc);
  CHECK(isa().sp_after_return(0x7ffff000) == 0x7ffff000);
  // $retval
  CHECK(isa().return_value().word == 0);
  // The CFI's return-address column (30) and its CFA register (31, sp).
  CHECK(isa().dwarf_register(30)->word == slot.reg.word);
  CHECK(isa().dwarf_register(31)->word == isa().sp_word());
}

TEST_CASE("aarch64 return: instructions that sign or authenticate x30", "[arch][aarch64][return]") {
  struct Case {
    uint32_t word;
    const char* text;
    bool auth;
  };
  const Case cases[] = {
      {0xd503233f, "paciasp", true},
      {0xd503237f, "pacibsp", true},
      {0xd503231f, "paciaz", true},
      {0xd503235f, "pacibz", true},
      {0xd50323bf, "autiasp", true},
      {0xd50323ff, "autibsp", true},
      {0xd503239f, "autiaz", true},
      {0xd50323df, "autibz", true},
      {0xd65f0bff, "retaa", true},
      {0xd65f0fff, "retab", true},
      {0xdac103fe, "pacia x30, sp", true},
      {0xdac1043e, "pacib x30, x1", true},
      {0xdac123fe, "paciza x30", true},
      {0xdac113fe, "autia x30, sp", true},
      // Not the return address, or not signing it.
      {0xdac10041, "pacia x1, x2", false},
      {0xdac143fe, "xpaci x30", false},
      {0xd50320ff, "xpaclri", false},
      {0xd503211f, "pacia1716", false},
      {0xd503201f, "nop", false},
      {0xd503245f, "bti c", false},
      {0xd65f03c0, "ret", false},
      {0xa9bf7bfd, "stp x29, x30, [sp, #-16]!", false},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    CHECK(uses_return_address_auth(c.word) == c.auth);
  }
}

TEST_CASE("aarch64 return: a function that signs its return address is refused, naming the instruction",
          "[arch][aarch64][return]") {
  // GCC -O1 -mbranch-protection=pac-ret:
  //   paciasp; stp x29, x30, [sp, #-16]!; mov x29, sp; bl g; add x0, x0, #1;
  //   ldp x29, x30, [sp], #16; autiasp; ret
  const Bytes pac = words({0xd503233f, 0xa9bf7bfd, 0x910003fd, 0x94000000, 0x91000400, 0xa8c17bfd, 0xd50323bf, 0xd65f03c0});
  auto insns = isa().decode(pac, RuntimeAddr(kSite));
  REQUIRE(insns.size() == 8);
  const std::string why = isa().return_hijack_refusal(insns);
  CHECK(why.find("signs its return address with pointer authentication (paciasp at +0x0)") != std::string::npos);
  // bti c first (-mbranch-protection=standard): the paciasp is at +0x4.
  const Bytes bti = words({0xd503245f, 0xd503233f, 0xa9bf7bfd, 0xd65f03c0});
  CHECK(isa().return_hijack_refusal(isa().decode(bti, RuntimeAddr(kSite))).find("(paciasp at +0x4)") !=
        std::string::npos);
  // The same function without pac-ret, and a leaf: nothing to refuse.
  const Bytes plain = words({0xa9bf7bfd, 0x910003fd, 0x94000000, 0x91000400, 0xa8c17bfd, 0xd65f03c0});
  CHECK(isa().return_hijack_refusal(isa().decode(plain, RuntimeAddr(kSite))).empty());
  const Bytes leaf = words({0x8b000400, 0xd65f03c0});  // add x0, x0, x0, lsl #1; ret
  CHECK(isa().return_hijack_refusal(isa().decode(leaf, RuntimeAddr(kSite))).empty());
  CHECK(isa().return_hijack_refusal({}).empty());
}
