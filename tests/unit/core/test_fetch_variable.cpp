// DWARF plans bound into a FetchProgram and evaluated per hit: how each kind
// of type comes out as a FetchedValue, access steps, :TYPE overrides, and
// what binding refuses. The plans are made by hand (elf/ makes them from
// libdw; the integration tests cover that end).
#include <dwarf.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <map>

#include "arch/isa.h"
#include "common/error.h"
#include "common/variable_path.h"
#include "core/fetch_program.h"
#include "fake_memory.h"

using namespace uptrace;
using uptrace::test::FakeMemory;

namespace {

constexpr uint64_t kBase = 0x20000;
constexpr uint16_t kRdiWord = 14;  // user_regs_struct
constexpr uint16_t kRspWord = 19;

dwarf::Op op(uint8_t atom, uint64_t number = 0, uint64_t number2 = 0) { return {atom, number, number2, 0, {}}; }

class Plans final : public VariableSource {
 public:
  std::map<std::string, dwarf::VariablePlan> by_path;
  std::vector<dwarf::VariablePlan> parameters;
  dwarf::VariablePlan variable(const VariablePath&, const std::string& shown) const override {
    auto it = by_path.find(shown);
    if (it == by_path.end()) throw_runtime("no variable '{}'", shown);
    dwarf::VariablePlan p = it->second;
    p.name = shown;
    return p;
  }
  std::vector<dwarf::VariablePlan> params() const override { return parameters; }
  std::optional<dwarf::ValueType> returns;  // what return_type() gives, unless
  std::string refuse;                       // it throws this
  std::optional<dwarf::ValueType> return_type() const override {
    if (!refuse.empty()) throw Error(ErrorKind::Runtime, refuse, "a hint");
    return returns;
  }
};

dwarf::ValueType value_type(dwarf::ValueKind kind, unsigned size, std::string name) {
  dwarf::ValueType t;
  t.kind = kind;
  t.size = size;
  t.name = std::move(name);
  return t;
}

FetchArg retval(std::optional<FetchType> type = std::nullopt, std::string name = "retval") {
  return FetchArg{std::move(name), FetchExpr{fetch::ReturnValue{}}, type};
}

dwarf::VariablePlan plan(dwarf::Expr location, dwarf::ValueKind kind, unsigned size, std::string type_name = "t") {
  dwarf::VariablePlan p;
  p.location = std::move(location);
  p.type.kind = kind;
  p.type.size = size;
  p.type.name = std::move(type_name);
  return p;
}

FetchArg variable(const std::string& path, std::optional<FetchType> type = std::nullopt) {
  return FetchArg{path, FetchExpr{fetch::Variable{path}}, type};
}

struct Hit {
  arch::Regs regs;
  FakeMemory mem{kBase, 0x1000};
  std::vector<FetchedValue> run(const core::FetchProgram& p) {
    std::vector<FetchedValue> out;
    p.evaluate(regs, 0x1000, mem, out);
    return out;
  }
};

}  // namespace

TEST_CASE("fetch: DWARF types print as their kind says", "[fetch][dwarf][core]") {
  const arch::Isa& isa = arch::native_isa();
  if (isa.id() != arch::IsaId::X86_64) {
    WARN("register numbers below are x86-64's");
    return;
  }
  Plans plans;
  // rdi points to a struct: {int id = -7; char name[8] = "ab"; const char *path; int color = 5; bool on = 1}
  plans.by_path["id"] = plan({op(DW_OP_breg5, 0)}, dwarf::ValueKind::Signed, 4, "int");
  plans.by_path["name"] = plan({op(DW_OP_breg5, 4)}, dwarf::ValueKind::CharArray, 8, "char[8]");
  plans.by_path["path"] = plan({op(DW_OP_breg5, 16)}, dwarf::ValueKind::CharPointer, 8, "const char *");
  dwarf::VariablePlan color = plan({op(DW_OP_breg5, 24)}, dwarf::ValueKind::Enum, 4, "enum color");
  color.type.enumerators = {{0, "RED"}, {5, "GREEN"}};
  plans.by_path["color"] = color;
  plans.by_path["on"] = plan({op(DW_OP_breg5, 28)}, dwarf::ValueKind::Bool, 1, "_Bool");
  plans.by_path["self"] = plan({op(DW_OP_reg5)}, dwarf::ValueKind::Pointer, 8, "struct s *");
  plans.by_path["gone"] = plan({}, dwarf::ValueKind::Signed, 4, "int");
  plans.by_path["gone"].optimized_out = "no location covers this address";
  plans.by_path["bad"] = plan({op(DW_OP_lit0), op(DW_OP_deref)}, dwarf::ValueKind::Signed, 4, "int");
  // path->... via steps: the second byte of the string the struct points to.
  dwarf::VariablePlan second = plan({op(DW_OP_breg5, 16)}, dwarf::ValueKind::Unsigned, 1, "char");
  second.steps = {{dwarf::Step::Kind::Deref, 0}, {dwarf::Step::Kind::Offset, 1}};
  plans.by_path["path[1]"] = second;

  std::vector<FetchArg> args = {variable("id"),  variable("name"),  variable("path"), variable("color"),
                                variable("on"),  variable("self"),  variable("gone"), variable("bad"),
                                variable("path[1]"), variable("id", FetchType::X16)};
  core::FetchProgram program(isa, args, "f ...", false, &plans);
  CHECK(program.names() == std::vector<std::string>{"id", "name", "path", "color", "on", "self", "gone", "bad",
                                                    "path[1]", "id"});

  Hit h;
  const uint64_t s = kBase + 0x100, str = kBase + 0x200;
  h.regs.words[kRdiWord] = s;
  h.mem.put<int32_t>(s, -7);
  h.mem.put_bytes(s + 4, "ab\0zzzzz", 8);
  h.mem.put<uint64_t>(s + 16, str);
  h.mem.put_bytes(str, "/srv", 5);
  h.mem.put<int32_t>(s + 24, 5);
  h.mem.put<uint8_t>(s + 28, 1);
  std::vector<FetchedValue> v = h.run(program);
  REQUIRE(v.size() == 10);
  CHECK(v[0].type == FetchType::S32);
  CHECK(static_cast<int64_t>(v[0].bits) == -7);
  CHECK(v[1].type == FetchType::String);
  CHECK(v[1].text == "ab");
  CHECK(v[2].text == "/srv");
  CHECK(v[3].show == ValueShow::Enum);
  CHECK(v[3].text == "GREEN");
  CHECK(v[4].show == ValueShow::Bool);
  CHECK(v[4].bits == 1);
  CHECK(v[5].type == FetchType::X64);
  CHECK(v[5].bits == s);
  CHECK(v[6].optimized_out);
  CHECK_FALSE(v[6].fault);
  CHECK(v[7].fault);
  CHECK(v[8].bits == 's');
  CHECK(v[9].type == FetchType::X16);  // :x16 overrides int
  CHECK(v[9].bits == 0xfff9);
  CHECK(v[9].show == ValueShow::Number);

  // An enumerator that does not exist prints as its number.
  h.mem.put<int32_t>(s + 24, 7);
  v = h.run(program);
  CHECK(v[3].text.empty());
  CHECK(v[3].bits == 7);
  // A char array fills its whole length without a NUL: only its bytes.
  h.mem.put_bytes(s + 4, "abcdefgh", 8);
  v = h.run(program);
  CHECK(v[1].text == "abcdefgh");
  // A dangling char pointer is a fault, not a crash.
  h.mem.put<uint64_t>(s + 16, 8);
  v = h.run(program);
  CHECK(v[2].fault);
}

TEST_CASE("fetch: $params expands to one named value per parameter", "[fetch][dwarf][core]") {
  const arch::Isa& isa = arch::native_isa();
  if (isa.id() != arch::IsaId::X86_64) {
    WARN("register numbers below are x86-64's");
    return;
  }
  Plans plans;
  dwarf::VariablePlan a = plan({op(DW_OP_reg5)}, dwarf::ValueKind::Signed, 8, "long");
  a.name = "a";
  // A parameter in an xmm register (DWARF 17) cannot be read: $params shows
  // it as optimized out instead of failing the probe.
  dwarf::VariablePlan x = plan({op(DW_OP_reg17)}, dwarf::ValueKind::Pointer, 8, "double");
  x.name = "x";
  plans.parameters = {a, x};
  core::FetchProgram program(isa, {FetchArg{"params", FetchExpr{fetch::Params{}}, std::nullopt}}, "f $params", false,
                             &plans);
  CHECK(program.names() == std::vector<std::string>{"a", "x"});
  Hit h;
  h.regs.words[kRdiWord] = static_cast<uint64_t>(-3);
  auto v = h.run(program);
  REQUIRE(v.size() == 2);
  CHECK(static_cast<int64_t>(v[0].bits) == -3);
  CHECK(v[1].optimized_out);
  REQUIRE(program.describe_variables().size() == 2);
  CHECK(program.describe_variables()[0] == "a: long, DW_OP_reg5 (%rdi)");
  CHECK(program.describe_variables()[1] ==
        "x: double, (optimized out: it is in DWARF register 17, which uptrace cannot read on x86_64)");

  // Named explicitly, the same variable is an error with the reason.
  plans.by_path["x"] = x;
  try {
    core::FetchProgram(isa, {variable("x")}, "f x", false, &plans);
    FAIL("bound a variable in an xmm register");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Runtime);
    CHECK(std::string(e.what()) ==
          "probe 'f x': cannot fetch 'x': it is in DWARF register 17, which uptrace cannot read on x86_64");
  }
}

TEST_CASE("fetch: frame-base variables read the stack through the CFA", "[fetch][dwarf][core]") {
  const arch::Isa& isa = arch::native_isa();
  if (isa.id() != arch::IsaId::X86_64) {
    WARN("register numbers below are x86-64's");
    return;
  }
  Plans plans;
  dwarf::VariablePlan len = plan({op(DW_OP_fbreg, static_cast<uint64_t>(-20))}, dwarf::ValueKind::Unsigned, 4, "unsigned int");
  len.frame_base = {op(DW_OP_call_frame_cfa)};
  len.cfa = {op(DW_OP_bregx, 7, 8)};  // rsp + 8
  plans.by_path["len"] = len;
  core::FetchProgram program(isa, {variable("len")}, "f len", false, &plans);
  CHECK(program.reads_frame_slots());
  Hit h;
  h.regs.words[kRspWord] = kBase + 0x400;
  h.mem.put<uint32_t>(kBase + 0x408 - 20, 4096);
  auto v = h.run(program);
  CHECK(v[0].type == FetchType::U32);
  CHECK(v[0].bits == 4096);
  // Without a session, DWARF arguments are only checked for syntax.
  core::FetchProgram syntax_only(isa, {variable("len")}, "f len", false, nullptr);
  CHECK(syntax_only.empty());
}

TEST_CASE("fetch: $retval takes the function's DWARF return type", "[fetch][dwarf][core][return]") {
  const arch::Isa& isa = arch::native_isa();
  const uint16_t ret = isa.return_value().word;
  REQUIRE(isa.return_value().bits == 64);
  auto one = [&](const Plans& plans, uint64_t reg, FetchArg arg = retval()) {
    core::FetchProgram program(isa, {std::move(arg)}, "f%return $retval", true, &plans);
    Hit h;
    h.regs.words[ret] = reg;
    std::vector<FetchedValue> v = h.run(program);
    REQUIRE(v.size() == 1);
    return v[0];
  };
  Plans plans;
  // int: the upper half of the register is not part of the value.
  plans.returns = value_type(dwarf::ValueKind::Signed, 4, "int");
  FetchedValue v = one(plans, 0x5'ffff'ffffULL);
  CHECK(v.type == FetchType::S32);
  CHECK(static_cast<int64_t>(v.bits) == -1);
  CHECK(v.show == ValueShow::Number);
  // An explicit :TYPE is read as written, whatever DWARF says.
  v = one(plans, 0x5'ffff'ffffULL, retval(FetchType::X64));
  CHECK(v.type == FetchType::X64);
  CHECK(v.bits == 0x5'ffff'ffffULL);
  v = one(plans, 0x5'ffff'ffffULL, retval(FetchType::U32));
  CHECK(v.bits == 0xffff'ffffULL);
  // +OFF($retval) reads memory at the raw value, as s64 unless typed.
  {
    auto inner = std::make_shared<const FetchExpr>(FetchExpr{fetch::ReturnValue{}});
    core::FetchProgram program(isa, {FetchArg{"+8($retval)", FetchExpr{fetch::Deref{8, inner}}, std::nullopt}},
                               "f%return +8($retval)", true, &plans);
    Hit h;
    h.mem.put<int64_t>(kBase + 0x48, -5);
    h.regs.words[ret] = kBase + 0x40;
    std::vector<FetchedValue> out = h.run(program);
    CHECK(out[0].type == FetchType::S64);
    CHECK(static_cast<int64_t>(out[0].bits) == -5);
  }
  plans.returns = value_type(dwarf::ValueKind::Unsigned, 1, "unsigned char");
  v = one(plans, 0x7fff'ffc8);
  CHECK(v.type == FetchType::U8);
  CHECK(v.bits == 200);
  plans.returns = value_type(dwarf::ValueKind::Bool, 1, "_Bool");
  v = one(plans, 0xab01);
  CHECK(v.show == ValueShow::Bool);
  CHECK(v.bits == 1);
  dwarf::ValueType mood = value_type(dwarf::ValueKind::Enum, 4, "enum mood");
  mood.enum_signed = true;
  mood.enumerators = {{0, "CALM"}, {static_cast<uint64_t>(-2), "GRUMPY"}};
  plans.returns = mood;
  v = one(plans, 0xffff'fffeULL);
  CHECK(v.show == ValueShow::Enum);
  CHECK(v.text == "GRUMPY");
  v = one(plans, 7);
  CHECK(v.text.empty());
  CHECK(v.bits == 7);
  plans.returns = value_type(dwarf::ValueKind::Pointer, 8, "int *");
  v = one(plans, 0x3000);
  CHECK(v.type == FetchType::X64);
  CHECK(v.bits == 0x3000);
  // A char pointer is the string it points to; NULL is a fault.
  plans.returns = value_type(dwarf::ValueKind::CharPointer, 8, "const char *");
  {
    core::FetchProgram program(isa, {retval()}, "f%return $retval", true, &plans);
    Hit h;
    h.mem.put_bytes(kBase + 0x40, "ready", 6);
    h.regs.words[ret] = kBase + 0x40;
    std::vector<FetchedValue> out = h.run(program);
    CHECK(out[0].type == FetchType::String);
    CHECK(out[0].text == "ready");
    h.regs.words[ret] = 0;
    out = h.run(program);
    CHECK(out[0].fault);
    REQUIRE(program.describe_variables().size() == 1);
    CHECK(program.describe_variables()[0].starts_with("retval: const char *, %"));
    CHECK(program.describe_variables()[0].ends_with(" (the return value)"));
  }

  // Unknown to DWARF, or no DWARF at all: today's s64.
  plans.returns.reset();
  v = one(plans, 0x5'ffff'ffffULL);
  CHECK(v.type == FetchType::S64);
  CHECK(v.bits == 0x5'ffff'ffffULL);
  core::FetchProgram untyped(isa, {retval()}, "f%return $retval", true, nullptr);
  CHECK(untyped.describe_variables().empty());

  // A refusal (void, a struct, a double) names the probe; an explicit type
  // does not ask DWARF at all.
  plans.refuse = "cannot fetch '$retval' at f: f returns void";
  try {
    core::FetchProgram(isa, {retval()}, "f%return $retval", true, &plans);
    FAIL("typed the $retval of a void function");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Runtime);
    CHECK(std::string(e.what()) == "probe 'f%return $retval': cannot fetch '$retval' at f: f returns void");
    CHECK(e.hint() == "a hint");
  }
  v = one(plans, 42, retval(FetchType::S64));
  CHECK(v.bits == 42);
}

TEST_CASE("fetch: a constant (a USDT marker's number) is its value, typed, in memory as an address", "[fetch][core]") {
  const arch::Isa& isa = arch::native_isa();
  std::vector<FetchArg> args;
  args.push_back(FetchArg{"arg1", FetchExpr{fetch::Constant{static_cast<uint64_t>(-42)}}, FetchType::S32});
  args.push_back(FetchArg{"arg2", FetchExpr{fetch::Constant{200}}, FetchType::U8});
  auto at = std::make_shared<const FetchExpr>(FetchExpr{fetch::Constant{kBase}});
  args.push_back(FetchArg{"s", FetchExpr{fetch::Deref{0, at}}, FetchType::String});
  args.push_back(FetchArg{"w", FetchExpr{fetch::Deref{8, at}}, FetchType::U16});
  core::FetchProgram p(isa, args, "%uptest:answer", false);
  // A trampoline records nothing for a constant.
  CHECK(p.register_captures().why_not.find("memory") != std::string::npos);
  core::FetchProgram regs_only(isa, {args[0], args[1]}, "%uptest:answer", false);
  CHECK(regs_only.register_captures().why_not.empty());
  CHECK(regs_only.register_captures().words.empty());
  Hit h;
  h.mem.put_bytes(kBase, "hi", 3);
  h.mem.put<uint16_t>(kBase + 8, 0xbeef);
  auto v = h.run(p);
  REQUIRE(v.size() == 4);
  CHECK(static_cast<int64_t>(v[0].bits) == -42);
  CHECK(v[1].bits == 200);
  CHECK(v[2].text == "hi");
  CHECK(v[3].bits == 0xbeef);
}
