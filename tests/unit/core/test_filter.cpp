// core/filter: a condition bound to a probe's arguments and evaluated at a
// stop (integers signed or unsigned per TYPE, strings with == != and glob,
// unreadable values, names of arguments against operands of its own), and
// what it hands a jump trampoline, or why it cannot.
#include <catch2/catch.hpp>

#include "arch/x86_64/registers.h"
#include "arch/x86_64/x86_64_isa.h"
#include "common/error.h"
#include "core/filter.h"
#include "fake_memory.h"

using namespace uptrace;
using namespace uptrace::core;
namespace x86 = uptrace::arch::x86_64;

namespace {

constexpr uint64_t kBase = 0x10000;

FetchArg arg(std::string name, FetchExpr e, std::optional<FetchType> type = std::nullopt) {
  return FetchArg{std::move(name), std::move(e), type};
}
FetchExpr argument(unsigned n) { return FetchExpr{fetch::Argument{n}}; }
FetchExpr reg(std::string name) { return FetchExpr{fetch::Register{std::move(name)}}; }
FetchExpr deref(int64_t off, FetchExpr inner) {
  return FetchExpr{fetch::Deref{off, std::make_shared<const FetchExpr>(std::move(inner))}};
}

Condition compare_name(std::string name, CompareOp op, CondLiteral literal) {
  Condition c;
  c.operand.arg_name = std::move(name);
  c.op = op;
  c.literal = std::move(literal);
  return c;
}
Condition compare_expr(FetchArg a, CompareOp op, CondLiteral literal) {
  Condition c;
  c.operand.expr = std::move(a);
  c.op = op;
  c.literal = std::move(literal);
  return c;
}
CondLiteral num(int64_t v) { return CondLiteral{false, static_cast<uint64_t>(v), {}}; }
CondLiteral str(std::string s) { return CondLiteral{true, 0, std::move(s)}; }
Condition node(Condition::Kind kind, std::vector<Condition> children) {
  Condition c;
  c.kind = kind;
  c.children = std::move(children);
  return c;
}

struct Probe {
  const arch::Isa& isa = x86::x86_64_isa();
  FetchProgram args;
  Filter filter;
  test::FakeMemory mem{kBase, 4096};
  arch::Regs regs;
  std::vector<FetchedValue> values;

  Probe(std::vector<FetchArg> fetch, const Condition& c)
      : args(isa, fetch, "probe", false), filter(isa, c, args, "probe", false) {}
  bool keep() {
    args.evaluate(regs, 0x401000, mem, values);
    return filter.keep(values, regs, 0x401000, mem);
  }
};

}  // namespace

TEST_CASE("filter: integers compare signed or unsigned as their TYPE says", "[filter]") {
  // $arg1 < 0: s64 by default, so -1 is below 0; as u64 it is the largest.
  Probe s64({}, compare_expr(arg("$arg1", argument(1)), CompareOp::Lt, num(0)));
  Probe u64({}, compare_expr(arg("$arg1", argument(1), FetchType::U64), CompareOp::Lt, num(0)));
  Probe u64_big({}, compare_expr(arg("$arg1", argument(1), FetchType::U64), CompareOp::Gt, num(5)));
  s64.regs.words[x86::kRdi] = u64.regs.words[x86::kRdi] = u64_big.regs.words[x86::kRdi] = UINT64_MAX;
  CHECK(s64.keep());
  CHECK_FALSE(u64.keep());
  CHECK(u64_big.keep());
  // A narrow type reads only its bytes: 0x1ff as s8 is -1, as u8 255.
  Probe s8({}, compare_expr(arg("$arg1", argument(1), FetchType::S8), CompareOp::Eq, num(-1)));
  Probe u8({}, compare_expr(arg("$arg1", argument(1), FetchType::U8), CompareOp::Eq, num(255)));
  s8.regs.words[x86::kRdi] = u8.regs.words[x86::kRdi] = 0x1ff;
  CHECK(s8.keep());
  CHECK(u8.keep());
}

TEST_CASE("filter: each operator, and &&, || and !", "[filter]") {
  auto at = [](int64_t v, const Condition& c) {
    Probe p({}, c);
    p.regs.words[x86::kRdi] = static_cast<uint64_t>(v);
    return p.keep();
  };
  const FetchArg a1 = arg("$arg1", argument(1));
  struct Row {
    CompareOp op;
    bool below, equal, above;  // at 4, 5, 6 against 5
  };
  for (const Row& r : {Row{CompareOp::Eq, false, true, false}, Row{CompareOp::Ne, true, false, true},
                       Row{CompareOp::Lt, true, false, false}, Row{CompareOp::Le, true, true, false},
                       Row{CompareOp::Gt, false, false, true}, Row{CompareOp::Ge, false, true, true}}) {
    INFO(to_string(r.op));
    CHECK(at(4, compare_expr(a1, r.op, num(5))) == r.below);
    CHECK(at(5, compare_expr(a1, r.op, num(5))) == r.equal);
    CHECK(at(6, compare_expr(a1, r.op, num(5))) == r.above);
  }
  const Condition between = node(Condition::Kind::All, {compare_expr(a1, CompareOp::Ge, num(-2)),
                                                        compare_expr(a1, CompareOp::Lt, num(3))});
  CHECK_FALSE(at(-3, between));
  CHECK(at(-2, between));
  CHECK(at(2, between));
  CHECK_FALSE(at(3, between));
  const Condition outside = node(Condition::Kind::Not, {between});
  CHECK(at(-3, outside));
  CHECK_FALSE(at(0, outside));
  const Condition either = node(Condition::Kind::Any, {compare_expr(a1, CompareOp::Eq, num(7)),
                                                       compare_expr(a1, CompareOp::Eq, num(-7))});
  CHECK(at(7, either));
  CHECK(at(-7, either));
  CHECK_FALSE(at(0, either));
}

TEST_CASE("filter: a NAME reads the argument's value, own operands are evaluated here", "[filter]") {
  std::vector<FetchArg> fetch = {arg("n", argument(2), FetchType::U16), arg("path", deref(0, argument(1)), FetchType::String)};
  const Condition c = node(Condition::Kind::All, {compare_name("n", CompareOp::Eq, num(0xffff)),
                                                  compare_name("path", CompareOp::Glob, str("/etc/*")),
                                                  compare_expr(arg("%rdx", reg("rdx")), CompareOp::Ne, num(0))});
  Probe p(fetch, c);
  p.mem.put_bytes(kBase, "/etc/passwd", 12);
  p.regs.words[x86::kRdi] = kBase;
  p.regs.words[x86::kRsi] = 0x7ffff;  // u16: 0xffff
  p.regs.words[x86::kRdx] = 1;
  CHECK(p.keep());
  p.regs.words[x86::kRdx] = 0;
  CHECK_FALSE(p.keep());
  p.regs.words[x86::kRdx] = 1;
  p.mem.put_bytes(kBase, "/tmp/passwd", 12);
  CHECK_FALSE(p.keep());
}

TEST_CASE("filter: strings with ==, != and ~", "[filter]") {
  auto keeps = [](CompareOp op, std::string literal, const char* text) {
    Probe p({}, compare_expr(arg("s", deref(0, argument(1)), FetchType::String), op, str(std::move(literal))));
    p.mem.put_bytes(kBase, text, std::strlen(text) + 1);
    p.regs.words[x86::kRdi] = kBase;
    return p.keep();
  };
  CHECK(keeps(CompareOp::Eq, "/tmp/a", "/tmp/a"));
  CHECK_FALSE(keeps(CompareOp::Eq, "/tmp/a", "/tmp/ab"));
  CHECK(keeps(CompareOp::Ne, "/tmp/a", "/tmp/ab"));
  CHECK(keeps(CompareOp::Glob, "/etc/*", "/etc/a/b"));  // * crosses '/', as in a shell's case, not its paths
  CHECK(keeps(CompareOp::Glob, "*.so.[0-9]", "libc.so.6"));
  CHECK(keeps(CompareOp::Glob, "?at", "cat"));
  CHECK_FALSE(keeps(CompareOp::Glob, "/etc/*", "/tmp/etc/x"));
  CHECK(keeps(CompareOp::Eq, "", ""));
}

TEST_CASE("filter: a comparison with an unreadable value is false, and ! of it true", "[filter]") {
  const FetchArg unreadable = arg("+0($arg1)", deref(0, argument(1)));
  Probe eq({}, compare_expr(unreadable, CompareOp::Eq, num(0)));
  Probe ne({}, compare_expr(unreadable, CompareOp::Ne, num(0)));
  Probe negated({}, node(Condition::Kind::Not, {compare_expr(unreadable, CompareOp::Eq, num(0))}));
  for (Probe* p : {&eq, &ne, &negated}) p->regs.words[x86::kRdi] = 0x1234;  // not mapped
  CHECK_FALSE(eq.keep());
  CHECK_FALSE(ne.keep());
  CHECK(negated.keep());
  Probe glob({}, compare_expr(arg("s", deref(0, argument(1)), FetchType::String), CompareOp::Glob, str("*")));
  glob.regs.words[x86::kRdi] = 0x1234;
  CHECK_FALSE(glob.keep());
}

TEST_CASE("filter: no condition keeps every hit", "[filter]") {
  Filter none;
  CHECK(none.empty());
  test::FakeMemory mem{kBase, 16};
  CHECK(none.keep({}, arch::Regs{}, 0, mem));
  CHECK(none.for_trampoline().why_not.empty());
  CHECK_FALSE(none.for_trampoline().filter.has_value());
}

TEST_CASE("filter: registers only go to the trampoline, as they are read", "[filter][jump]") {
  std::vector<FetchArg> fetch = {arg("n", argument(1), FetchType::S32)};
  const Condition c = node(Condition::Kind::Any, {compare_name("n", CompareOp::Lt, num(-5)),
                                                  node(Condition::Kind::Not, {compare_expr(arg("%ah", reg("ah"), FetchType::U8),
                                                                                           CompareOp::Eq, num(3))}),
                                                  compare_expr(arg("$pc", FetchExpr{fetch::ProgramCounter{}}),
                                                               CompareOp::Eq, num(0x401000)),
                                                  compare_expr(arg("$sp", FetchExpr{fetch::StackPointer{}}),
                                                               CompareOp::Ne, num(0))});
  Probe p(fetch, c);
  Filter::ForTrampoline t = p.filter.for_trampoline();
  INFO(t.why_not);
  REQUIRE(t.filter);
  const arch::JumpFilter& f = *t.filter;
  CHECK(f.kind == arch::JumpFilter::Kind::Any);
  REQUIRE(f.children.size() == 4);
  const arch::JumpFilter& n = f.children[0];
  CHECK(n.kind == arch::JumpFilter::Kind::Compare);
  REQUIRE(n.reg);
  CHECK(n.reg->word == x86::kRdi);
  CHECK(n.reg->bits == 64);
  CHECK(n.bytes == 4);
  CHECK(n.is_signed);
  CHECK(n.op == CompareOp::Lt);
  CHECK(n.literal == static_cast<uint64_t>(-5));
  const arch::JumpFilter& ah = f.children[1].children.at(0);
  REQUIRE(ah.reg);
  CHECK(ah.reg->word == x86::kRax);
  CHECK(ah.reg->bits == 8);
  CHECK(ah.reg->shift == 8);
  CHECK(ah.bytes == 1);
  CHECK_FALSE(ah.is_signed);
  CHECK_FALSE(f.children[2].reg.has_value());  // $pc: the site's address
  REQUIRE(f.children[3].reg);
  CHECK(f.children[3].reg->word == x86::kRsp);
}

TEST_CASE("filter: memory, strings and DWARF stay in uptrace, and say why", "[filter][jump]") {
  Probe memory({}, compare_expr(arg("+8($arg1)", deref(8, argument(1))), CompareOp::Eq, num(1)));
  CHECK_FALSE(memory.filter.for_trampoline().filter);
  CHECK(memory.filter.for_trampoline().why_not ==
        "the condition reads '+8($arg1)' from the target's memory, which a trampoline cannot do safely");
  Probe string({}, compare_expr(arg("s", deref(0, argument(1)), FetchType::String), CompareOp::Eq, str("x")));
  CHECK(string.filter.for_trampoline().why_not ==
        "the condition compares the string 's', which a trampoline cannot read safely");
  // One such comparison anywhere is enough.
  Probe mixed({}, node(Condition::Kind::All, {compare_expr(arg("$arg2", argument(2)), CompareOp::Eq, num(1)),
                                              compare_expr(arg("+0($sp)", deref(0, FetchExpr{fetch::StackPointer{}})),
                                                           CompareOp::Eq, num(1))}));
  CHECK(mixed.filter.for_trampoline().why_not ==
        "the condition reads '+0($sp)' from the target's memory, which a trampoline cannot do safely");
  // Validating a command line, before DWARF: a variable is only checked for syntax.
  const arch::Isa& isa = x86::x86_64_isa();
  FetchProgram none(isa, {}, "probe", false);
  Filter dwarf(isa, compare_expr(arg("req->len", FetchExpr{fetch::Variable{"req->len"}}), CompareOp::Gt, num(3)), none,
               "probe", false);
  CHECK(dwarf.for_trampoline().why_not == "a condition reads a DWARF variable, which uptrace locates and reads at a stop");
}

TEST_CASE("filter: a register the ISA lacks is a usage error", "[filter]") {
  const arch::Isa& isa = x86::x86_64_isa();
  FetchProgram none(isa, {}, "w if %x0 == 1", false);
  try {
    Filter(isa, compare_expr(arg("%x0", reg("x0")), CompareOp::Eq, num(1)), none, "w if %x0 == 1", false);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Usage);
    CHECK(std::string(e.what()) == "bad fetch argument in probe 'w if %x0 == 1': no register '%x0' on x86_64");
  }
}
