// Where a function keeps its return address (ElfFile::return_address_rule),
// on call-frame information of known shape (fixtures/cfi_funcs.S) and on a
// compiled function; and the raw CFA instruction scan (scan_cfa_program) on
// golden bytes from GCC.
#include <elf.h>

#include <catch2/catch.hpp>

#include "elf/cfa_program.h"
#include "elf/elf_file.h"
#include "fixture_support.h"

using uptrace::FileAddr;
using uptrace::elf::CfaProgramScan;
using uptrace::elf::ElfFile;
using uptrace::elf::Function;
using uptrace::elf::ReturnAddressRule;
using uptrace::elf::scan_cfa_program;

namespace {

ReturnAddressRule rule_of(const ElfFile& elf, std::string_view name) {
  auto found = elf.find_function(name);
  INFO("function " << name);
  REQUIRE(found.size() == 1);
  const Function& f = *found.front();
  return elf.return_address_rule(f.addr, f.addr + f.size);
}

uint64_t offset_in(const ElfFile& elf, std::string_view name, FileAddr a) {
  return a.value - elf.find_function(name).front()->addr.value;
}

constexpr uint8_t kPcrelSdata4 = 0x1b;  // DW_EH_PE_pcrel | DW_EH_PE_sdata4, GCC's FDE encoding

}  // namespace

TEST_CASE("return rule: saved on the stack from the row that says so", "[elf][return]") {
  auto elf = ElfFile::open(elftest::fixture("libelffix_cfi.so"));
  const ReturnAddressRule r = rule_of(*elf, "cfi_spill");
  CHECK(r.has_cfi);
  CHECK(r.unsupported.empty());
  CHECK(r.ra_column == 16);
  CHECK(r.cfa_known);
  CHECK(r.cfa_register == 7);
  CHECK(r.cfa_offset == 8);
  REQUIRE(r.saved_at.has_value());
  CHECK(*r.saved_at == -24);
  CHECK(offset_in(*elf, "cfi_spill", r.saved_from) == 4);
  CHECK_FALSE(r.signed_ra);
}

TEST_CASE("return rule: a function that never saves it keeps it in its register", "[elf][return]") {
  auto elf = ElfFile::open(elftest::fixture("libelffix_cfi.so"));
  const ReturnAddressRule r = rule_of(*elf, "cfi_leaf");
  CHECK(r.has_cfi);
  CHECK(r.unsupported.empty());
  CHECK_FALSE(r.saved_at.has_value());
  CHECK(r.cfa_register == 7);
  CHECK(r.cfa_offset == 8);
}

TEST_CASE("return rule: rules uptrace cannot follow are described", "[elf][return]") {
  auto elf = ElfFile::open(elftest::fixture("libelffix_cfi.so"));
  CHECK(rule_of(*elf, "cfi_two_places").unsupported ==
        "its CFI saves the return address at two places (CFA-0x18 and, from +0x8, CFA-0x28)");
}

TEST_CASE("return rule: a register it passes through is named, with where", "[elf][return]") {
  // As ppc64's mflr r0 before std r0,16(r1): the CFI has it in r0 a while.
  auto elf = ElfFile::open(elftest::fixture("libelffix_cfi.so"));
  const ReturnAddressRule r = rule_of(*elf, "cfi_in_register");
  CHECK(r.unsupported.empty());
  REQUIRE(r.via_register.has_value());
  CHECK(*r.via_register == 3);
  CHECK(offset_in(*elf, "cfi_in_register", r.via_from) == 4);
  CHECK_FALSE(r.saved_at.has_value());
}

TEST_CASE("return rule: no FDE, no CFI", "[elf][return]") {
  auto elf = ElfFile::open(elftest::fixture("libelffix_cfi.so"));
  const ReturnAddressRule r = rule_of(*elf, "cfi_none");
  CHECK_FALSE(r.has_cfi);
  CHECK_FALSE(r.saved_at.has_value());
}

TEST_CASE("return rule: 0x2d means a signed return address only in an aarch64 file", "[elf][return]") {
  auto elf = ElfFile::open(elftest::fixture("libelffix_cfi.so"));
  const ReturnAddressRule r = rule_of(*elf, "cfi_negate");
  CHECK(r.has_cfi);
  CHECK(r.saved_at == -16);
  // On SPARC and elsewhere the same opcode is DW_CFA_GNU_window_save.
  CHECK(r.signed_ra == (elf->machine() == EM_AARCH64));
}

TEST_CASE("return rule: a compiled function saves it where its ISA's call left it", "[elf][return]") {
  auto elf = ElfFile::open(elftest::fixture("prog_pie"));
  const ReturnAddressRule r = rule_of(*elf, "parse_response");
  CHECK(r.has_cfi);
  CHECK(r.unsupported.empty());
  CHECK_FALSE(r.signed_ra);
  REQUIRE(r.cfa_known);
  REQUIRE(r.saved_at.has_value());
  if (elf->machine() == EM_X86_64) {
    // call pushed it: at CFA-8 from the first instruction, CFA = rsp+8.
    CHECK(r.ra_column == 16);
    CHECK(r.cfa_register == 7);
    CHECK(r.cfa_offset == 8);
    CHECK(*r.saved_at == -8);
    CHECK(offset_in(*elf, "parse_response", r.saved_from) == 0);
    CHECK(r.cfa_offset + *r.saved_at == 0);  // the word at rsp
  } else if (elf->machine() == EM_AARCH64) {
    CHECK(r.ra_column == 30);
    CHECK(r.cfa_register == 31);
    CHECK(r.cfa_offset == 0);
  }
}

TEST_CASE("cfa program scan: GCC's aarch64 FDE with and without pac-ret", "[elf][return]") {
  // aarch64-linux-gnu-gcc -O1 [-mbranch-protection=pac-ret], a function that
  // calls another: the instructions of its .eh_frame FDE.
  //   DW_CFA_advance_loc 4; DW_CFA_AARCH64_negate_ra_state; DW_CFA_advance_loc 4;
  //   DW_CFA_def_cfa_offset 16; DW_CFA_offset r29 cfa-16; DW_CFA_offset r30 cfa-8;
  //   DW_CFA_advance_loc 16; DW_CFA_restore r30; DW_CFA_restore r29;
  //   DW_CFA_def_cfa_offset 0; DW_CFA_advance_loc 4; DW_CFA_AARCH64_negate_ra_state; nop x3
  const std::vector<uint8_t> pac = {0x41, 0x2d, 0x41, 0x0e, 0x10, 0x9d, 0x02, 0x9e, 0x01, 0x44,
                                    0xde, 0xdd, 0x0e, 0x00, 0x41, 0x2d, 0x00, 0x00, 0x00};
  CfaProgramScan s = scan_cfa_program(pac, kPcrelSdata4, 8, false);
  CHECK(s.complete);
  CHECK(s.negates_ra_state);
  const std::vector<uint8_t> plain = {0x41, 0x0e, 0x10, 0x9d, 0x02, 0x9e, 0x01, 0x44,
                                      0xde, 0xdd, 0x0e, 0x00, 0x00, 0x00, 0x00};
  s = scan_cfa_program(plain, kPcrelSdata4, 8, false);
  CHECK(s.complete);
  CHECK_FALSE(s.negates_ra_state);
  // The CIE: DW_CFA_def_cfa r31 ofs 0.
  s = scan_cfa_program(std::vector<uint8_t>{0x0c, 0x1f, 0x00}, kPcrelSdata4, 8, false);
  CHECK(s.complete);
  CHECK_FALSE(s.negates_ra_state);
}

TEST_CASE("cfa program scan: operands are skipped, not mistaken for opcodes", "[elf][return]") {
  // DW_CFA_def_cfa_expression, a 3-byte block holding 0x2d; DW_CFA_set_loc
  // with a 4-byte operand of 0x2d bytes; DW_CFA_offset_extended_sf r30 -16;
  // DW_CFA_GNU_args_size 0x2d (uleb).
  const std::vector<uint8_t> program = {0x0f, 0x03, 0x2d, 0x2d, 0x2d, 0x01, 0x2d, 0x2d, 0x2d, 0x2d,
                                        0x11, 0x1e, 0x7e, 0x2e, 0x2d};
  CfaProgramScan s = scan_cfa_program(program, kPcrelSdata4, 8, false);
  CHECK(s.complete);
  CHECK_FALSE(s.negates_ra_state);
  // With an absolute 8-byte set_loc (.debug_frame) the operand is longer,
  // and the last byte is an opcode.
  s = scan_cfa_program(program, 0x00, 8, false);
  CHECK(s.complete);
  CHECK(s.negates_ra_state);
  // An opcode the scanner does not know stops it; what came before counts.
  s = scan_cfa_program(std::vector<uint8_t>{0x2d, 0x3f, 0x00}, kPcrelSdata4, 8, false);
  CHECK_FALSE(s.complete);
  CHECK(s.negates_ra_state);
  // A truncated operand.
  s = scan_cfa_program(std::vector<uint8_t>{0x0c, 0x9f}, kPcrelSdata4, 8, false);
  CHECK_FALSE(s.complete);
}
