// Field layout of x86-64 instructions, as the table and the rewriting see it.
#include <catch2/catch.hpp>

#include "arch/x86_64/encoding.h"
#include "support.h"

using namespace uptrace::arch::x86_64;
using namespace uptrace::arch::x86_64::test;

TEST_CASE("x86_64 encoding: legacy prefixes, REX and opcode", "[arch][x86_64]") {
  // f0 48 ff 05 10 00 00 00    lock inc qword ptr [rip + 0x10]
  auto e = parse_encoding(Bytes{0xf0, 0x48, 0xff, 0x05, 0x10, 0x00, 0x00, 0x00});
  REQUIRE(e);
  CHECK(e->lock);
  REQUIRE(e->rex == uint8_t{0x48});
  CHECK(e->rex_offset == 1);
  CHECK(e->map == OpcodeMap::OneByte);
  CHECK(e->opcode == 0xff);
  CHECK(e->opcode_offset == 2);
  CHECK(e->modrm_offset == 3);
  CHECK(e->vex == VexKind::None);

  // 48 66 90    a REX followed by a prefix is ignored by the CPU
  e = parse_encoding(Bytes{0x48, 0x66, 0x90});
  REQUIRE(e);
  CHECK_FALSE(e->rex.has_value());
  CHECK(e->opsize);
  CHECK(e->opcode == 0x90);

  // 66 f3 0f 1e fa    the last f2/f3 selects the SSE form, over 66
  e = parse_encoding(Bytes{0x66, 0xf3, 0x0f, 0x1e, 0xfa});
  REQUIRE(e);
  CHECK(e->simd_prefix() == SimdPrefix::PF3);
  CHECK(e->map == OpcodeMap::TwoByte);
  CHECK(e->opcode == 0x1e);

  // 66 0f 38 82 05 ...    invpcid: three-byte map
  e = parse_encoding(Bytes{0x66, 0x0f, 0x38, 0x82, 0x05, 0x10, 0x00, 0x00, 0x00});
  REQUIRE(e);
  CHECK(e->map == OpcodeMap::ThreeByte38);
  CHECK(e->opcode == 0x82);
  CHECK(e->simd_prefix() == SimdPrefix::P66);
  CHECK(e->modrm_offset == 4);

  // 64 48 8b 04 25 28 00 00 00    mov rax, qword ptr fs:[0x28]
  e = parse_encoding(Bytes{0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00});
  REQUIRE(e);
  CHECK(e->segment == 0x64);
  CHECK(e->modrm_offset == 3);

  // 0f 0f 05 10 00 00 00 9e    pfadd mm0, [rip + 0x10]: 3DNow opcode is the last byte
  e = parse_encoding(Bytes{0x0f, 0x0f, 0x05, 0x10, 0x00, 0x00, 0x00, 0x9e});
  REQUIRE(e);
  CHECK(e->map == OpcodeMap::Amd3DNow);
  CHECK(e->opcode == 0x9e);
  CHECK(e->modrm_offset == 2);

  CHECK_FALSE(parse_encoding(Bytes{}).has_value());
  CHECK_FALSE(parse_encoding(Bytes{0x66, 0xf3}).has_value());
  CHECK_FALSE(parse_encoding(Bytes{0x0f}).has_value());
}

TEST_CASE("x86_64 encoding: VEX, EVEX and XOP", "[arch][x86_64]") {
  // c5 fe 6f 05 10 00 00 00    vmovdqu ymm0, ymmword ptr [rip + 0x10]
  auto e = parse_encoding(Bytes{0xc5, 0xfe, 0x6f, 0x05, 0x10, 0x00, 0x00, 0x00});
  REQUIRE(e);
  CHECK(e->vex == VexKind::Vex2);
  CHECK(e->map == OpcodeMap::TwoByte);
  CHECK(e->opcode == 0x6f);
  CHECK(e->modrm_offset == 3);
  CHECK(e->vvvv == 0);
  CHECK(e->simd_prefix() == SimdPrefix::PF3);

  // c4 e2 40 f2 35 10 00 00 00    andn esi, edi, dword ptr [rip + 0x10]
  e = parse_encoding(Bytes{0xc4, 0xe2, 0x40, 0xf2, 0x35, 0x10, 0x00, 0x00, 0x00});
  REQUIRE(e);
  CHECK(e->vex == VexKind::Vex3);
  CHECK(e->map == OpcodeMap::ThreeByte38);
  CHECK(e->opcode == 0xf2);
  CHECK(e->vvvv == 7);  // edi
  CHECK(e->modrm_offset == 4);

  // 62 f1 7c 48 10 05 01 00 00 00    vmovups zmm0, zmmword ptr [rip + 1]
  e = parse_encoding(Bytes{0x62, 0xf1, 0x7c, 0x48, 0x10, 0x05, 0x01, 0x00, 0x00, 0x00});
  REQUIRE(e);
  CHECK(e->vex == VexKind::Evex);
  CHECK(e->map == OpcodeMap::TwoByte);
  CHECK(e->opcode == 0x10);
  CHECK(e->modrm_offset == 5);

  // 8f e9 78 e1 05 10 00 00 00    vphsubbw xmm0, xmmword ptr [rip + 0x10]
  e = parse_encoding(Bytes{0x8f, 0xe9, 0x78, 0xe1, 0x05, 0x10, 0x00, 0x00, 0x00});
  REQUIRE(e);
  CHECK(e->vex == VexKind::Xop);
  CHECK(e->map == OpcodeMap::Xop);
  CHECK(e->opcode == 0xe1);

  // 8f 05 10 00 00 00    pop qword ptr [rip + 0x10]: 8f with map < 8 is not XOP
  e = parse_encoding(Bytes{0x8f, 0x05, 0x10, 0x00, 0x00, 0x00});
  REQUIRE(e);
  CHECK(e->vex == VexKind::None);
  CHECK(e->opcode == 0x8f);
}

TEST_CASE("x86_64 decoder: operands and registers accessed", "[arch][x86_64]") {
  // 48 8b 35 e1 2e 00 00    mov rsi, qword ptr [rip + 0x2ee1]
  const Decoded d = decode_one({0x48, 0x8b, 0x35, 0xe1, 0x2e, 0x00, 0x00});
  CHECK(d.mnemonic == "mov");
  CHECK(d.rip_relative());
  REQUIRE(d.operands.size() == 2);
  CHECK(d.operands[0].kind == Operand::Kind::Register);
  CHECK(d.operands[0].reg == "rsi");
  CHECK(d.operands[1].kind == Operand::Kind::Memory);
  CHECK(d.operands[1].reg == "rip");
  CHECK(d.operands[1].value == 0x2ee1);
  CHECK(d.gprs_accessed == (1u << 6));

  // 48 0f c7 0d 10 00 00 00    cmpxchg16b xmmword ptr [rip + 0x10]: implicit rax rbx rcx rdx
  const Decoded c = decode_one({0x48, 0x0f, 0xc7, 0x0d, 0x10, 0x00, 0x00, 0x00});
  CHECK(c.gprs_accessed == 0b1111);

  // 48 8b 04 24    mov rax, qword ptr [rsp]: not rip-relative
  CHECK_FALSE(decode_one({0x48, 0x8b, 0x04, 0x24}).rip_relative());
}
