// The DWARF expression machine over fake registers and memory: each op
// family, the location kinds, and what makes a value optimized out.
#include <dwarf.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>

#include "core/dwarf_expr.h"
#include "fake_memory.h"

using namespace uptrace;
using namespace uptrace::core;
using uptrace::test::FakeMemory;

namespace {

constexpr uint64_t kBase = 0x10000;

class FakeRegs final : public DwarfRegisters {
 public:
  std::map<unsigned, uint64_t> values;
  std::optional<uint64_t> read(unsigned regno) const override {
    auto it = values.find(regno);
    if (it == values.end()) return std::nullopt;
    return it->second;
  }
};

dwarf::Op op(uint8_t atom, uint64_t number = 0, uint64_t number2 = 0) { return {atom, number, number2, 0, {}}; }
uint64_t s(int64_t v) { return static_cast<uint64_t>(v); }

// Byte offsets as libdw gives them, for branch targets.
dwarf::Expr with_offsets(dwarf::Expr e, std::initializer_list<uint64_t> offsets) {
  size_t i = 0;
  for (uint64_t o : offsets) e[i++].offset = o;
  return e;
}

uint64_t bytes_value(const DwarfPlace& p) {
  REQUIRE(p.kind == DwarfPlace::Kind::Bytes);
  uint64_t v = 0;
  std::memcpy(&v, p.bytes.data.data(), std::min<size_t>(8, p.bytes.size));
  return v;
}

struct Fixture {
  FakeRegs regs;
  FakeMemory mem{kBase, 0x1000};
  dwarf::Expr frame_base;
  dwarf::Expr cfa;
  DwarfPlace eval(const dwarf::Expr& e, uint64_t bias = 0) {
    DwarfContext ctx{regs, mem, &frame_base, &cfa, bias};
    return evaluate_location(e, ctx);
  }
};

}  // namespace

TEST_CASE("dwarf: a register location is the register's value", "[dwarf][core]") {
  Fixture f;
  f.regs.values[5] = 0x1234;
  CHECK(bytes_value(f.eval({op(DW_OP_reg5)})) == 0x1234);
  f.regs.values[20] = 77;
  CHECK(bytes_value(f.eval({op(DW_OP_regx, 20)})) == 77);
  // A register the ISA does not give us cannot be evaluated, not guessed.
  CHECK(f.eval({op(DW_OP_reg17)}).kind == DwarfPlace::Kind::Unsupported);
}

TEST_CASE("dwarf: breg, bregx, addr, constants and arithmetic compute addresses", "[dwarf][core]") {
  Fixture f;
  f.regs.values[7] = kBase + 0x100;
  DwarfPlace p = f.eval({op(DW_OP_breg7, s(-16))});
  REQUIRE(p.kind == DwarfPlace::Kind::Memory);
  CHECK(p.addr == kBase + 0xf0);
  CHECK(f.eval({op(DW_OP_bregx, 7, 8)}).addr == kBase + 0x108);
  // DW_OP_addr is a file address: the load bias is added.
  CHECK(f.eval({op(DW_OP_addr, 0x4000)}, 0x550000000000).addr == 0x550000004000);
  CHECK(f.eval({op(DW_OP_lit3), op(DW_OP_const1s, s(-1)), op(DW_OP_plus)}).addr == 2);
  CHECK(f.eval({op(DW_OP_constu, 10), op(DW_OP_lit4), op(DW_OP_minus)}).addr == 6);
  CHECK(f.eval({op(DW_OP_consts, s(-6)), op(DW_OP_lit4), op(DW_OP_div)}).addr == s(-1));
  CHECK(f.eval({op(DW_OP_lit5), op(DW_OP_lit3), op(DW_OP_mul), op(DW_OP_plus_uconst, 100)}).addr == 115);
  CHECK(f.eval({op(DW_OP_lit1), op(DW_OP_lit4), op(DW_OP_shl), op(DW_OP_lit3), op(DW_OP_or)}).addr == 19);
  CHECK(f.eval({op(DW_OP_consts, s(-8)), op(DW_OP_lit1), op(DW_OP_shra)}).addr == s(-4));
  CHECK(f.eval({op(DW_OP_lit2), op(DW_OP_lit3), op(DW_OP_lt)}).addr == 1);
  CHECK(f.eval({op(DW_OP_lit1), op(DW_OP_lit2), op(DW_OP_swap), op(DW_OP_minus)}).addr == 1);
  CHECK(f.eval({op(DW_OP_lit1), op(DW_OP_lit2), op(DW_OP_over), op(DW_OP_plus), op(DW_OP_plus)}).addr == 4);
  CHECK(f.eval({op(DW_OP_lit1), op(DW_OP_lit2), op(DW_OP_lit3), op(DW_OP_rot), op(DW_OP_drop), op(DW_OP_drop)}).addr == 3);
  CHECK(f.eval({op(DW_OP_lit9), op(DW_OP_lit8), op(DW_OP_pick, 1)}).addr == 9);
}

TEST_CASE("dwarf: deref and deref_size read the target's memory", "[dwarf][core]") {
  Fixture f;
  f.mem.put<uint64_t>(kBase + 0x20, 0x1122334455667788);
  f.regs.values[6] = kBase + 0x20;
  CHECK(f.eval({op(DW_OP_breg6, 0), op(DW_OP_deref)}).addr == 0x1122334455667788);
  CHECK(f.eval({op(DW_OP_breg6, 0), op(DW_OP_deref_size, 2)}).addr == 0x7788);
  // Unreadable memory is a fault, not a value.
  CHECK(f.eval({op(DW_OP_lit0), op(DW_OP_deref)}).kind == DwarfPlace::Kind::Fault);
}

TEST_CASE("dwarf: fbreg goes through the frame base and the CFA", "[dwarf][core]") {
  Fixture f;
  f.regs.values[7] = kBase + 0x200;  // rsp
  f.cfa = {op(DW_OP_bregx, 7, 8)};   // the CFA rule at a function's entry
  f.frame_base = {op(DW_OP_call_frame_cfa)};
  DwarfPlace p = f.eval({op(DW_OP_fbreg, s(-20))});
  REQUIRE(p.kind == DwarfPlace::Kind::Memory);
  CHECK(p.addr == kBase + 0x208 - 20);
  // A frame base held in a register (DW_OP_reg6) means its value.
  f.regs.values[6] = kBase + 0x300;
  f.frame_base = {op(DW_OP_reg6)};
  CHECK(f.eval({op(DW_OP_fbreg, 16)}).addr == kBase + 0x310);
  // Without call frame information there is no CFA to go by.
  f.frame_base = {op(DW_OP_call_frame_cfa)};
  f.cfa.clear();
  CHECK(f.eval({op(DW_OP_fbreg, 16)}).kind == DwarfPlace::Kind::Unsupported);
}

TEST_CASE("dwarf: stack_value and implicit_value are values, not addresses", "[dwarf][core]") {
  Fixture f;
  f.regs.values[5] = 6;
  CHECK(bytes_value(f.eval({op(DW_OP_breg5, 0), op(DW_OP_lit7), op(DW_OP_mul), op(DW_OP_stack_value)})) == 42);
  dwarf::Op iv = op(DW_OP_implicit_value, 4);
  iv.block = {0x78, 0x56, 0x34, 0x12};
  DwarfPlace p = f.eval({iv});
  CHECK(p.bytes.size == 4);
  CHECK(bytes_value(p) == 0x12345678);
}

TEST_CASE("dwarf: pieces assemble a value from registers, memory and constants", "[dwarf][core]") {
  Fixture f;
  f.regs.values[0] = 0xaaaaaaaa11111111;
  f.mem.put<uint32_t>(kBase + 0x40, 0x22222222);
  dwarf::Expr e = {op(DW_OP_reg0), op(DW_OP_piece, 4), op(DW_OP_addr, kBase + 0x40), op(DW_OP_piece, 4),
                   op(DW_OP_lit9), op(DW_OP_stack_value), op(DW_OP_piece, 8)};
  DwarfPlace p = f.eval(e);
  REQUIRE(p.kind == DwarfPlace::Kind::Bytes);
  REQUIRE(p.bytes.size == 16);
  uint64_t lo = 0, hi = 0;
  std::memcpy(&lo, p.bytes.data.data(), 8);
  std::memcpy(&hi, p.bytes.data.data() + 8, 8);
  CHECK(lo == 0x2222222211111111);
  CHECK(hi == 9);
  // A piece with no location is a part that was optimized away.
  CHECK(f.eval({op(DW_OP_reg0), op(DW_OP_piece, 4), op(DW_OP_piece, 4)}).kind == DwarfPlace::Kind::OptimizedOut);
}

TEST_CASE("dwarf: entry values, implicit pointers and empty locations are optimized out", "[dwarf][core]") {
  Fixture f;
  f.regs.values[5] = 1;
  CHECK(f.eval({op(DW_OP_entry_value, 1), op(DW_OP_stack_value)}).kind == DwarfPlace::Kind::OptimizedOut);
  CHECK(f.eval({op(DW_OP_GNU_entry_value, 1), op(DW_OP_stack_value)}).kind == DwarfPlace::Kind::OptimizedOut);
  CHECK(f.eval({op(DW_OP_GNU_implicit_pointer, 0x40, 0)}).kind == DwarfPlace::Kind::OptimizedOut);
  CHECK(f.eval({}).kind == DwarfPlace::Kind::OptimizedOut);
}

TEST_CASE("dwarf: skip and bra jump by byte offsets", "[dwarf][core]") {
  Fixture f;
  // lit1; bra +1 (over lit5); lit5; lit7   -> offsets 0, 1, 4, 5: the branch lands on lit7
  dwarf::Expr e = with_offsets({op(DW_OP_lit1), op(DW_OP_bra, 1), op(DW_OP_lit5), op(DW_OP_lit7)}, {0, 1, 4, 5});
  DwarfPlace p = f.eval(e);
  CHECK(p.addr == 7);
  // Not taken when the condition is 0: lit5 then lit7, top is 7 over 5.
  e[0].atom = DW_OP_lit0;
  p = f.eval({e[0], e[1], e[2], op(DW_OP_plus_uconst, 1)});
  CHECK(p.addr == 6);
  // A loop (skip -3 onto itself) is stopped, not run forever.
  CHECK(f.eval(with_offsets({op(DW_OP_skip, s(-3))}, {0})).kind == DwarfPlace::Kind::Unsupported);
}

TEST_CASE("dwarf: malformed expressions are refused, not trusted", "[dwarf][core]") {
  Fixture f;
  CHECK(f.eval({op(DW_OP_plus)}).kind == DwarfPlace::Kind::Unsupported);
  CHECK(f.eval({op(DW_OP_lit1), op(DW_OP_lit0), op(DW_OP_div)}).kind == DwarfPlace::Kind::Unsupported);
  dwarf::Expr deep(65, op(DW_OP_lit1));
  CHECK(f.eval(deep).kind == DwarfPlace::Kind::Unsupported);
  CHECK(f.eval({op(DW_OP_form_tls_address)}).kind == DwarfPlace::Kind::Unsupported);
}

TEST_CASE("dwarf: static checks name unsupported ops and used registers", "[dwarf][core]") {
  CHECK_FALSE(unsupported_op({op(DW_OP_fbreg, 8), op(DW_OP_deref)}).has_value());
  CHECK_FALSE(unsupported_op({op(DW_OP_GNU_entry_value, 1)}).has_value());
  CHECK(unsupported_op({op(DW_OP_form_tls_address)}) ==
        "its location uses DW_OP_form_tls_address, which uptrace does not evaluate");
  CHECK(registers_used({op(DW_OP_breg3, 0), op(DW_OP_regx, 40), op(DW_OP_bregx, 16, 2)}) ==
        std::vector<unsigned>{3, 40, 16});
  CHECK(uses_frame_base({op(DW_OP_fbreg, 8)}));
  CHECK(uses_cfa({op(DW_OP_call_frame_cfa)}));
  CHECK(describe({op(DW_OP_fbreg, s(-20))}, [](unsigned) { return std::string("?"); }) == "DW_OP_fbreg -20");
  CHECK(describe({op(DW_OP_breg7, 8), op(DW_OP_deref), op(DW_OP_piece, 4)},
                 [](unsigned r) { return r == 7 ? std::string("%rsp") : std::string("?"); }) ==
        "DW_OP_breg7 (%rsp) +8; DW_OP_deref; DW_OP_piece 4");
}
