// Golden bytes for rip-relative rewriting: the instruction at the site and
// the copy that must be in the slot, side by side.
#include <catch2/catch.hpp>

#include <optional>

#include "arch/x86_64/relocate.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch::x86_64;
using namespace uptrace::arch::x86_64::test;

namespace {

// General-purpose register numbers as encodings use them.
constexpr unsigned kRbxNumber = 3, kRsiNumber = 6, kRdiNumber = 7;

struct Golden {
  const char* what;
  Bytes in;  // at kSite (0x401000)
  uint64_t slot;
  Bytes out;
  std::optional<unsigned> scratch;
};

}  // namespace

TEST_CASE("x86_64 relocate: rip-relative operands, golden bytes", "[arch][x86_64]") {
  const Golden cases[] = {
      // 48 8b 05 e1 2e 00 00   mov rax, qword ptr [rip + 0x2ee1]   slot 0x402000 (near): disp re-encoded
      {"near, slot above", {0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, 0x402000,
       {0x48, 0x8b, 0x05, 0xe1, 0x1e, 0x00, 0x00}, std::nullopt},
      // same                                                       slot 0x400000 (near, below)
      {"near, slot below", {0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, 0x400000,
       {0x48, 0x8b, 0x05, 0xe1, 0x3e, 0x00, 0x00}, std::nullopt},
      // same                                                       slot 0x7f0000: negative new disp
      {"near, negative result", {0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, 0x7f0000,
       {0x48, 0x8b, 0x05, 0xe1, 0x3e, 0xc1, 0xff}, std::nullopt},
      // 48 8b 05 00 f0 ff ff   mov rax, qword ptr [rip - 0x1000]   slot 0x402000
      {"near, negative disp", {0x48, 0x8b, 0x05, 0x00, 0xf0, 0xff, 0xff}, 0x402000,
       {0x48, 0x8b, 0x05, 0x00, 0xe0, 0xff, 0xff}, std::nullopt},
      // 48 8b 05 e1 2e 00 00   target 0x403ee8                     slot 0x80403ee1: new disp is exactly INT32_MIN
      {"edge: INT32_MIN fits", {0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, 0x80403ee1,
       {0x48, 0x8b, 0x05, 0x00, 0x00, 0x00, 0x80}, std::nullopt},
      // same                                                       slot 0x80403ee2: one byte too far -> via scratch rsi
      {"edge: one past", {0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, 0x80403ee2,
       {0x48, 0x8b, 0x86, 0xe1, 0x2e, 0x00, 0x00}, kRsiNumber},
      // 48 8b 05 e1 2e 00 00   mov rax, qword ptr [rip + 0x2ee1]   slot 0x7f0000001000 (far) -> mov rax, [rsi + 0x2ee1]
      {"far", {0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, kFarSlot, {0x48, 0x8b, 0x86, 0xe1, 0x2e, 0x00, 0x00}, kRsiNumber},
      // 48 8b 35 e1 2e 00 00   mov rsi, qword ptr [rip + 0x2ee1]   far: rsi is the destination -> mov rsi, [rdi + 0x2ee1]
      {"far, rsi used", {0x48, 0x8b, 0x35, 0xe1, 0x2e, 0x00, 0x00}, kFarSlot,
       {0x48, 0x8b, 0xb7, 0xe1, 0x2e, 0x00, 0x00}, kRdiNumber},
      // ff 35 10 00 00 00      push qword ptr [rip + 0x10]         far: ModRM.reg is 6 (/6), ruled out like the kernel
      {"far, reg field 6", {0xff, 0x35, 0x10, 0x00, 0x00, 0x00}, kFarSlot, {0xff, 0xb7, 0x10, 0x00, 0x00, 0x00}, kRdiNumber},
      // 41 8b 05 10 00 00 00   mov eax, dword ptr [rip + 0x10]     far: REX.B cleared -> mov eax, [rsi + 0x10]
      {"far, REX.B", {0x41, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00}, kFarSlot, {0x40, 0x8b, 0x86, 0x10, 0x00, 0x00, 0x00}, kRsiNumber},
      // 80 3d 10 00 00 00 05   cmp byte ptr [rip + 0x10], 5        far: the imm8 after the disp stays
      {"far, imm after disp", {0x80, 0x3d, 0x10, 0x00, 0x00, 0x00, 0x05}, kFarSlot,
       {0x80, 0xbe, 0x10, 0x00, 0x00, 0x00, 0x05}, kRsiNumber},
      // ff 15 10 00 00 00      call qword ptr [rip + 0x10]         far -> call [rsi + 0x10]
      {"far, indirect call", {0xff, 0x15, 0x10, 0x00, 0x00, 0x00}, kFarSlot, {0xff, 0x96, 0x10, 0x00, 0x00, 0x00}, kRsiNumber},
      // dd 05 10 00 00 00      fld qword ptr [rip + 0x10]          far (x87)
      {"far, x87", {0xdd, 0x05, 0x10, 0x00, 0x00, 0x00}, kFarSlot, {0xdd, 0x86, 0x10, 0x00, 0x00, 0x00}, kRsiNumber},
      // 48 0f c7 0d 10 00 00 00   cmpxchg16b xmmword ptr [rip + 0x10]   far: implicit rbx, rsi is free
      {"far, cmpxchg16b", {0x48, 0x0f, 0xc7, 0x0d, 0x10, 0x00, 0x00, 0x00}, kFarSlot,
       {0x48, 0x0f, 0xc7, 0x8e, 0x10, 0x00, 0x00, 0x00}, kRsiNumber},
      // c5 fe 6f 05 10 00 00 00   vmovdqu ymm0, ymmword ptr [rip + 0x10]   near (VEX2)
      {"near, VEX2", {0xc5, 0xfe, 0x6f, 0x05, 0x10, 0x00, 0x00, 0x00}, 0x402000,
       {0xc5, 0xfe, 0x6f, 0x05, 0x10, 0xf0, 0xff, 0xff}, std::nullopt},
      // same                                                       far (VEX2 has no B bit)
      {"far, VEX2", {0xc5, 0xfe, 0x6f, 0x05, 0x10, 0x00, 0x00, 0x00}, kFarSlot,
       {0xc5, 0xfe, 0x6f, 0x86, 0x10, 0x00, 0x00, 0x00}, kRsiNumber},
      // c4 c1 7e 6f 05 10 00 00 00   vmovdqu ymm0, [rip + 0x10] with VEX.B set   far: VEX3 !B set -> c4 e1
      {"far, VEX3 B", {0xc4, 0xc1, 0x7e, 0x6f, 0x05, 0x10, 0x00, 0x00, 0x00}, kFarSlot,
       {0xc4, 0xe1, 0x7e, 0x6f, 0x86, 0x10, 0x00, 0x00, 0x00}, kRsiNumber},
      // c4 e2 40 f2 35 10 00 00 00   andn esi, edi, dword ptr [rip + 0x10]   far: rsi (reg) and rdi (vvvv) used -> rbx
      {"far, VEX rsi+rdi used", {0xc4, 0xe2, 0x40, 0xf2, 0x35, 0x10, 0x00, 0x00, 0x00}, kFarSlot,
       {0xc4, 0xe2, 0x40, 0xf2, 0xb3, 0x10, 0x00, 0x00, 0x00}, kRbxNumber},
      // c4 e2 43 f6 35 10 00 00 00   mulx esi, edi, dword ptr [rip + 0x10]   far: implicit rdx, -> rbx
      {"far, mulx", {0xc4, 0xe2, 0x43, 0xf6, 0x35, 0x10, 0x00, 0x00, 0x00}, kFarSlot,
       {0xc4, 0xe2, 0x43, 0xf6, 0xb3, 0x10, 0x00, 0x00, 0x00}, kRbxNumber},
      // 62 d1 7c 48 10 05 01 00 00 00   vmovups zmm0, zmmword ptr [rip + 1]   far: EVEX !B and !X set -> 62 f1
      {"far, EVEX", {0x62, 0xd1, 0x7c, 0x48, 0x10, 0x05, 0x01, 0x00, 0x00, 0x00}, kFarSlot,
       {0x62, 0xf1, 0x7c, 0x48, 0x10, 0x86, 0x01, 0x00, 0x00, 0x00}, kRsiNumber},
      // 8f e9 78 e1 05 10 00 00 00   vphsubbw xmm0, xmmword ptr [rip + 0x10]   far (XOP)
      {"far, XOP", {0x8f, 0xe9, 0x78, 0xe1, 0x05, 0x10, 0x00, 0x00, 0x00}, kFarSlot,
       {0x8f, 0xe9, 0x78, 0xe1, 0x86, 0x10, 0x00, 0x00, 0x00}, kRsiNumber},
      // 67 48 8b 05 e1 2e 00 00   mov rax, qword ptr [eip + 0x2ee1]   far: eip-relative wraps at 32 bits, always re-encodable
      {"far, eip-relative", {0x67, 0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, kFarSlot,
       {0x67, 0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x40, 0x00}, std::nullopt},
  };
  for (const Golden& g : cases) {
    INFO(g.what);
    const Decoded d = decode_one(g.in);
    const RipRewriteResult r = rewrite_rip_relative(d, RuntimeAddr(g.slot));
    REQUIRE(r.rewrite.has_value());
    CHECK(r.rewrite->code == g.out);
    CHECK(r.rewrite->scratch == g.scratch);
  }
}

TEST_CASE("x86_64 relocate: targets", "[arch][x86_64]") {
  // 48 8b 05 e1 2e 00 00   at 0x401000: 0x401007 + 0x2ee1
  CHECK(rip_target(decode_one({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}), RuntimeAddr(kSite)) == 0x403ee8);
  // 67 48 8d 05 f0 ff ff ff   lea rax, [eip - 0x10] at 0x100000004: truncated to 32 bits
  const Decoded eip = decode_one({0x67, 0x48, 0x8d, 0x05, 0xf0, 0xff, 0xff, 0xff}, 0x100000004);
  CHECK(rip_target(eip, RuntimeAddr(0x100000004)) == 0xfffffffc);
  CHECK_FALSE(rip_disp_offset(decode_one({0x48, 0x89, 0xe5})).has_value());
  CHECK(rip_disp_offset(decode_one({0xc5, 0xfe, 0x6f, 0x05, 0x10, 0x00, 0x00, 0x00})) == uint8_t{4});
}

TEST_CASE("x86_64 relocate: refused when far and rsi, rdi and rbx are all used", "[arch][x86_64]") {
  // 48 8b 05 e1 2e 00 00 with every candidate marked as used
  Decoded d = decode_one({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00});
  d.gprs_accessed |= (1u << kRsiNumber) | (1u << kRdiNumber) | (1u << kRbxNumber);
  CHECK_FALSE(choose_scratch(d).has_value());
  const RipRewriteResult far = rewrite_rip_relative(d, RuntimeAddr(kFarSlot));
  CHECK_FALSE(far.rewrite.has_value());
  CHECK(far.why_not ==
        "rip-relative operand: the slot is more than 2 GB from its target and the instruction uses rsi, rdi and rbx, "
        "so no scratch register is free");
  // Near, the displacement alone does it.
  const RipRewriteResult near = rewrite_rip_relative(d, RuntimeAddr(kNearSlot));
  REQUIRE(near.rewrite.has_value());
  CHECK(near.rewrite->code == Bytes{0x48, 0x8b, 0x05, 0xe1, 0x1e, 0x00, 0x00});

  // With only rsi and rbx used, rdi is left.
  d.gprs_accessed = (1u << kRsiNumber) | (1u << kRbxNumber);
  CHECK(choose_scratch(d) == kRdiNumber);
}
