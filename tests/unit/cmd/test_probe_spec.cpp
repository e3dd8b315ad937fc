#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <string>

#include "cmd/probe_spec.h"
#include "common/error.h"

using uptrace::FetchArg;
using uptrace::FetchExpr;
using uptrace::FetchType;
using uptrace::cmd::parse_probe;
using uptrace::cmd::ProbeSpec;
namespace loc = uptrace::cmd::loc;
namespace fetch = uptrace::fetch;

namespace {

// The tree of a fetch expression as one string, so a test states the exact
// structure in one comparison.
std::string describe(const FetchExpr& e) {
  const auto& n = e.node;
  if (const auto* r = std::get_if<fetch::Register>(&n)) return "reg(" + r->name + ")";
  if (const auto* a = std::get_if<fetch::Argument>(&n)) return fmt::format("arg({})", a->index);
  if (std::holds_alternative<fetch::ReturnValue>(n)) return "retval";
  if (std::holds_alternative<fetch::StackPointer>(n)) return "sp";
  if (std::holds_alternative<fetch::ProgramCounter>(n)) return "pc";
  if (const auto* d = std::get_if<fetch::Deref>(&n)) {
    REQUIRE(d->inner != nullptr);
    return fmt::format("deref({}, {})", d->offset, describe(*d->inner));
  }
  if (const auto* v = std::get_if<fetch::Variable>(&n)) return "var(" + v->path + ")";
  if (std::holds_alternative<fetch::Params>(n)) return "params";
  return "?";
}

std::string describe(const FetchArg& a) {
  return fmt::format("{}={}:{}", a.name, describe(a.expr), a.type ? uptrace::to_string(*a.type) : "default");
}

std::string usage_error(std::string_view word) {
  try {
    parse_probe(word);
  } catch (const uptrace::Error& e) {
    CHECK(e.kind() == uptrace::ErrorKind::Usage);
    return e.what();
  }
  FAIL("no error for '" << word << "'");
  return {};
}

const loc::Function& function(const ProbeSpec& s) {
  REQUIRE(std::holds_alternative<loc::Function>(s.location));
  return std::get<loc::Function>(s.location);
}

const loc::Return& ret(const ProbeSpec& s) {
  REQUIRE(std::holds_alternative<loc::Return>(s.location));
  return std::get<loc::Return>(s.location);
}

const loc::Address& address(const ProbeSpec& s) {
  REQUIRE(std::holds_alternative<loc::Address>(s.location));
  return std::get<loc::Address>(s.location);
}

const loc::SourceLine& source_line(const ProbeSpec& s) {
  REQUIRE(std::holds_alternative<loc::SourceLine>(s.location));
  return std::get<loc::SourceLine>(s.location);
}

std::string one_arg(std::string_view word) {
  ProbeSpec s = parse_probe(word);
  REQUIRE(s.args.size() == 1);
  return describe(s.args[0]);
}

}  // namespace

// ---------------------------------------------------------------- locations

TEST_CASE("FUNC", "[probe_spec]") {
  ProbeSpec s = parse_probe("work");
  CHECK(s.text == "work");
  CHECK_FALSE(s.module.has_value());
  CHECK(function(s).name == "work");
  CHECK(function(s).offset == 0);
  CHECK_FALSE(function(s).has_offset);
  CHECK_FALSE(function(s).is_glob);
  CHECK(s.args.empty());
  CHECK(s.display_name() == "work");
}

TEST_CASE("FUNC+OFF in decimal and hex", "[probe_spec]") {
  struct Row {
    const char* word;
    uint64_t offset;
    const char* display;
  };
  for (const Row& row : {Row{"work+5", 5, "work+0x5"}, Row{"work+0", 0, "work+0x0"},
                         Row{"work+0x1F", 0x1f, "work+0x1f"}, Row{"work+0X10", 0x10, "work+0x10"},
                         Row{"work+010", 10, "work+0xa"}, Row{"work+0x0", 0, "work+0x0"},
                         Row{"work+18446744073709551615", UINT64_MAX, "work+0xffffffffffffffff"}}) {
    INFO(row.word);
    ProbeSpec s = parse_probe(row.word);
    CHECK(function(s).name == "work");
    CHECK(function(s).offset == row.offset);
    CHECK(function(s).has_offset);
    CHECK_FALSE(function(s).is_glob);
    CHECK(s.display_name() == row.display);
  }
}

TEST_CASE("FUNC%return", "[probe_spec]") {
  ProbeSpec s = parse_probe("work%return");
  CHECK(ret(s).name == "work");
  CHECK_FALSE(ret(s).is_glob);
  CHECK(s.display_name() == "work%return");
}

TEST_CASE("0xADDR", "[probe_spec]") {
  ProbeSpec s = parse_probe("0x401136");
  CHECK(address(s).addr == 0x401136);
  CHECK_FALSE(s.module.has_value());
  CHECK(s.display_name() == "0x401136");
  CHECK(parse_probe("0X40ABcd").display_name() == "0x40abcd");
  CHECK(address(parse_probe("0x0")).addr == 0);
  CHECK(address(parse_probe("0xffffffffffffffff")).addr == UINT64_MAX);
}

TEST_CASE("SRCFILE:LINE", "[probe_spec]") {
  ProbeSpec s = parse_probe("demo.c:42");
  CHECK_FALSE(s.module.has_value());
  CHECK(source_line(s).file == "demo.c");
  CHECK(source_line(s).line == 42);
  CHECK(s.display_name() == "demo.c:42");

  ProbeSpec path = parse_probe("src/a.c:7");
  CHECK(source_line(path).file == "src/a.c");
  CHECK(source_line(path).line == 7);
  CHECK(path.display_name() == "src/a.c:7");

  // The line is a number: its leading zeros do not survive normalisation.
  CHECK(parse_probe("demo.c:042").display_name() == "demo.c:42");
  CHECK(source_line(parse_probe("x.c:4294967295")).line == 4294967295u);
}

TEST_CASE("MODULE:FILE:LINE", "[probe_spec]") {
  ProbeSpec s = parse_probe("libfoo.so:foo.c:12");
  CHECK(s.module == "libfoo.so");
  CHECK(source_line(s).file == "foo.c");
  CHECK(source_line(s).line == 12);
  CHECK(s.display_name() == "libfoo.so:foo.c:12");

  ProbeSpec p = parse_probe("/usr/lib/libfoo.so:src/foo.c:3");
  CHECK(p.module == "/usr/lib/libfoo.so");
  CHECK(source_line(p).file == "src/foo.c");
}

TEST_CASE("MODULE: prefixes", "[probe_spec]") {
  ProbeSpec s = parse_probe("libc:getpid");
  CHECK(s.module == "libc");
  CHECK(function(s).name == "getpid");
  CHECK(s.display_name() == "libc:getpid");

  CHECK(parse_probe("libfoo.so:f").module == "libfoo.so");
  CHECK(function(parse_probe("libfoo.so:f")).name == "f");

  ProbeSpec path = parse_probe("/usr/lib/x86_64-linux-gnu/libc.so.6:getpid");
  CHECK(path.module == "/usr/lib/x86_64-linux-gnu/libc.so.6");
  CHECK(function(path).name == "getpid");
  CHECK(path.display_name() == "/usr/lib/x86_64-linux-gnu/libc.so.6:getpid");

  ProbeSpec addr = parse_probe("libc:0x1234");
  CHECK(addr.module == "libc");
  CHECK(address(addr).addr == 0x1234);
  CHECK(addr.display_name() == "libc:0x1234");

  ProbeSpec off = parse_probe("libc:getpid+4");
  CHECK(function(off).offset == 4);
  CHECK(off.display_name() == "libc:getpid+0x4");

  ProbeSpec r = parse_probe("libc:getpid%return");
  CHECK(r.module == "libc");
  CHECK(ret(r).name == "getpid");
  CHECK(r.display_name() == "libc:getpid%return");
}

TEST_CASE("C++ names: '::' is not a module separator", "[probe_spec]") {
  ProbeSpec mangled = parse_probe("_ZN2ns3fooEv");
  CHECK(function(mangled).name == "_ZN2ns3fooEv");

  ProbeSpec s = parse_probe("ns::foo");
  CHECK_FALSE(s.module.has_value());
  CHECK(function(s).name == "ns::foo");
  CHECK(s.display_name() == "ns::foo");

  ProbeSpec m = parse_probe("libfoo.so:ns::Bar::run+8");
  CHECK(m.module == "libfoo.so");
  CHECK(function(m).name == "ns::Bar::run");
  CHECK(function(m).offset == 8);
  CHECK(m.display_name() == "libfoo.so:ns::Bar::run+0x8");

  CHECK(ret(parse_probe("ns::foo%return")).name == "ns::foo");
}

TEST_CASE("C++ signatures as c++filt prints them, templates and the anonymous namespace", "[probe_spec]") {
  ProbeSpec s = parse_probe("node::Start(int, char**)");
  CHECK_FALSE(s.module.has_value());
  CHECK(function(s).name == "node::Start(int, char**)");
  CHECK_FALSE(function(s).is_glob);  // '*' in a parameter list is a type
  CHECK(s.display_name() == "node::Start(int, char**)");

  ProbeSpec m = parse_probe("libfoo.so:ns::Bar::get() const+4 $arg1 n=%rdi");
  CHECK(m.module == "libfoo.so");
  CHECK(function(m).name == "ns::Bar::get() const");
  CHECK(function(m).offset == 4);
  REQUIRE(m.args.size() == 2);
  CHECK(m.display_name() == "libfoo.so:ns::Bar::get() const+0x4");

  CHECK(ret(parse_probe("ns::f(long, long) const &%return")).name == "ns::f(long, long) const &");
  CHECK(function(parse_probe("app::Box<int, 4>::get")).name == "app::Box<int, 4>::get");
  CHECK(function(parse_probe("(anonymous namespace)::hidden(char const*)")).name ==
        "(anonymous namespace)::hidden(char const*)");
  CHECK(function(parse_probe("lib.so:(anonymous namespace)::hidden")).name == "(anonymous namespace)::hidden");
  // A variable named like a qualifier is still a fetch argument.
  ProbeSpec v = parse_probe("ns::f(int) constant");
  CHECK(function(v).name == "ns::f(int)");
  REQUIRE(v.args.size() == 1);
  CHECK(v.args[0].name == "constant");

  // '*' where a parameter's type would start is a glob.
  CHECK(function(parse_probe("ns::f(*)")).is_glob);
  CHECK(function(parse_probe("ns::f(long, *)")).is_glob);
  CHECK(function(parse_probe("ns::f(?)")).is_glob);
  CHECK_FALSE(function(parse_probe("ns::f(char*, int**)")).is_glob);
  ProbeSpec g = parse_probe("ns::*(char*)");
  CHECK(function(g).is_glob);
  CHECK(function(g).name == "ns::*(char*)");

  CHECK(usage_error("ns::f(int") == "bad probe 'ns::f(int': unbalanced '(' in 'ns::f(int'");
  CHECK(usage_error("ns::Box<int::f") == "bad probe 'ns::Box<int::f': unbalanced '<' in 'ns::Box<int::f'");
}

TEST_CASE("module_separator: one colon alone, never a C++ '::'", "[probe_spec]") {
  using uptrace::cmd::module_separator;
  constexpr size_t npos = std::string_view::npos;
  CHECK(module_separator("node::Start*") == npos);
  CHECK(module_separator("v8::internal::Heap::Collect*") == npos);
  CHECK(module_separator("libfoo.so:ns::f") == 9);
  CHECK(module_separator("libc:*") == 4);
  CHECK(module_separator("ns::f(std::a::b)") == npos);
  CHECK(module_separator("(anonymous namespace)::f") == npos);
  CHECK(module_separator("*") == npos);
}

TEST_CASE("function names may hold . $ @ and digits", "[probe_spec]") {
  for (const char* name : {"foo.cold", ".L123", "$x", "f00", "_start", "memcpy@GLIBC_2.2.5", "@plt"}) {
    INFO(name);
    CHECK(function(parse_probe(name)).name == name);
  }
}

TEST_CASE("globs", "[probe_spec]") {
  for (const char* g : {"handle_*", "h?x", "[ab]c", "[!a]*", "[^a]x", "[]x]y", "*", "ns::*", "a[0-9]"}) {
    INFO(g);
    ProbeSpec s = parse_probe(g);
    CHECK(function(s).name == g);
    CHECK(function(s).is_glob);
  }
  ProbeSpec s = parse_probe("handle_*");
  CHECK(s.display_name("handle_get") == "handle_get");
  CHECK(s.display_name() == "handle_*");

  ProbeSpec off = parse_probe("parse_*+4");  // the same offset into every match
  CHECK(function(off).is_glob);
  CHECK(function(off).offset == 4);
  CHECK(off.display_name("parse_req") == "parse_req+0x4");

  ProbeSpec r = parse_probe("libc:get*%return");
  CHECK(ret(r).is_glob);
  CHECK(r.display_name("getpid") == "libc:getpid%return");

  // Only a glob is replaced by the match.
  CHECK(parse_probe("work").display_name("other") == "work");
}

TEST_CASE("white space around and between the parts", "[probe_spec]") {
  ProbeSpec s = parse_probe("  work\t%rdi   %rsi  ");
  CHECK(function(s).name == "work");
  REQUIRE(s.args.size() == 2);
  CHECK(describe(s.args[0]) == "%rdi=reg(rdi):default");
  CHECK(describe(s.args[1]) == "%rsi=reg(rsi):default");
  CHECK(s.text == "  work\t%rdi   %rsi  ");
}

// ----------------------------------------------------------- location errors

TEST_CASE("location usage errors", "[probe_spec]") {
  struct Row {
    const char* word;
    const char* error;
  };
  const Row rows[] = {
      {"", "bad probe '': the probe is empty"},
      {"   ", "bad probe '   ': the probe is empty"},
      {"work+0xzz", "bad probe 'work+0xzz': offset '0xzz' is not a number"},
      {"work+0x", "bad probe 'work+0x': offset '0x' is not a number"},
      {"work+4x", "bad probe 'work+4x': offset '4x' is not a number"},
      {"work++4", "bad probe 'work++4': offset '+4' is not a number"},
      {"work+", "bad probe 'work+': missing offset after 'work+'"},
      {"work-4", "bad probe 'work-4': negative offset '-4' (offsets count forward from the function start)"},
      {"work+-4", "bad probe 'work+-4': negative offset '-4' (offsets count forward from the function start)"},
      {"work+18446744073709551616", "bad probe 'work+18446744073709551616': offset '18446744073709551616' is out of range"},
      {"work+0x10000000000000000", "bad probe 'work+0x10000000000000000': offset '0x10000000000000000' is out of range"},
      {"work+4%return", "bad probe 'work+4%return': an offset cannot be combined with %return"},
      {"work%return+4", "bad probe 'work%return+4': an offset cannot be combined with %return"},
      {"work%ret", "bad probe 'work%ret': unknown suffix '%ret' (the only one is %return)"},
      {"work%returnx", "bad probe 'work%returnx': unknown suffix '%returnx' (the only one is %return)"},
      {"work)", "bad probe 'work)': unexpected ')' after the function name 'work'"},
      {"foo-bar", "bad probe 'foo-bar': unexpected '-bar' after the function name 'foo'"},
      {"a:::b", "bad probe 'a:::b': unexpected ':::b' after the function name 'a'"},
      {"[ab", "bad probe '[ab': unterminated '[' in '[ab'"},
      {"123", "bad probe '123': '123' is not a function name, 0xADDR or SRCFILE:LINE"},
      {"%return", "bad probe '%return': '%return' is not a function name, 0xADDR or SRCFILE:LINE"},
      {"+4", "bad probe '+4': '+4' is not a function name, 0xADDR or SRCFILE:LINE"},
      {":getpid", "bad probe ':getpid': empty module name before ':'"},
      {"libc:", "bad probe 'libc:': nothing after module 'libc:'"},
      {"libc:-1", "bad probe 'libc:-1': '-1' is not a function name, 0xADDR or SRCFILE:LINE"},
      {"0x", "bad probe '0x': address '0x' is not a number"},
      {"0xzz", "bad probe '0xzz': address '0xzz' is not a number"},
      {"0x10000000000000000", "bad probe '0x10000000000000000': address '0x10000000000000000' is out of range"},
      {"0x1234%return", "bad probe '0x1234%return': %return needs a function name, not the address '0x1234'"},
      {"0x12+4", "bad probe '0x12+4': unexpected '+4' after the address '0x12'"},
      {"demo.c:0", "bad probe 'demo.c:0': line 0 does not exist (lines count from 1)"},
      {"demo.c:4294967296", "bad probe 'demo.c:4294967296': line '4294967296' is out of range"},
      {":42", "bad probe ':42': no source file before ':42'"},
      {":foo.c:42", "bad probe ':foo.c:42': empty module name before ':'"},
      // Fetch arguments given as words of their own (perf probe's habit).
      {"$arg1", "bad probe '$arg1': '$arg1' is a fetch argument: it goes in the word of its probe, quoted (e.g. "
                "'FUNC $arg1')"},
      {"%rdi", "bad probe '%rdi': '%rdi' is a fetch argument: it goes in the word of its probe, quoted (e.g. 'FUNC "
               "%rdi')"},
      {"len=$arg2:u32", "bad probe 'len=$arg2:u32': 'len=$arg2:u32' is a fetch argument: it goes in the word of its "
                        "probe, quoted (e.g. 'FUNC len=$arg2:u32')"},
      {"$retval:s32", "bad probe '$retval:s32': '$retval:s32' is a fetch argument: it goes in the word of its "
                      "probe, quoted (e.g. 'FUNC $retval:s32')"},
      {"+0($arg3):string", "bad probe '+0($arg3):string': '+0($arg3):string' is a fetch argument: it goes in the "
                           "word of its probe, quoted (e.g. 'FUNC +0($arg3):string')"},
  };
  for (const Row& row : rows) {
    INFO(row.word);
    CHECK(usage_error(row.word) == row.error);
  }
}

// --------------------------------------------------------- fetch arguments

TEST_CASE("registers", "[probe_spec]") {
  CHECK(one_arg("work %rdi") == "%rdi=reg(rdi):default");
  CHECK(one_arg("work %x0") == "%x0=reg(x0):default");
  CHECK(one_arg("work %r3:u32") == "%r3=reg(r3):u32");
  CHECK(one_arg("work a=%a0:x64") == "a=reg(a0):x64");
  // Whether the ISA has it is checked later, against the ISA.
  CHECK(one_arg("work %nosuchreg") == "%nosuchreg=reg(nosuchreg):default");
}

TEST_CASE("special variables and their default names", "[probe_spec]") {
  CHECK(one_arg("work $arg1") == "arg1=arg(1):default");
  CHECK(one_arg("work $arg12:u8") == "arg12=arg(12):u8");
  CHECK(one_arg("work $sp") == "sp=sp:default");
  CHECK(one_arg("work $pc:x64") == "pc=pc:x64");
  CHECK(one_arg("work%return $retval") == "retval=retval:default");
  CHECK(one_arg("work%return r=$retval:s32") == "r=retval:s32");
  CHECK(one_arg("work $params") == "params=params:default");
  CHECK(one_arg("work n=$arg2") == "n=arg(2):default");
}

TEST_CASE("memory references nest, and their names stay as written", "[probe_spec]") {
  CHECK(one_arg("work +0(%rdi)") == "+0(%rdi)=deref(0, reg(rdi)):default");
  CHECK(one_arg("work -8(%rbp):s32") == "-8(%rbp)=deref(-8, reg(rbp)):s32");
  CHECK(one_arg("work +0x10($sp)") == "+0x10($sp)=deref(16, sp):default");
  CHECK(one_arg("work +8($arg1)") == "+8($arg1)=deref(8, arg(1)):default");
  CHECK(one_arg("work +8(+16($arg1)):x64") == "+8(+16($arg1))=deref(8, deref(16, arg(1))):x64");
  CHECK(one_arg("work v=-0x8(+0(+4(%rsi))):u16") == "v=deref(-8, deref(0, deref(4, reg(rsi)))):u16");
  CHECK(one_arg("work%return +4($retval)") == "+4($retval)=deref(4, retval):default");
  CHECK(one_arg("work +8(req->next)") == "+8(req->next)=deref(8, var(req->next)):default");
  // AT&T style, without the sign.
  CHECK(one_arg("work 8(%rdi)") == "8(%rdi)=deref(8, reg(rdi)):default");
  CHECK(one_arg("work +9223372036854775807(%rdi)") ==
        "+9223372036854775807(%rdi)=deref(9223372036854775807, reg(rdi)):default");
  CHECK(one_arg("work -9223372036854775808(%rdi)") ==
        "-9223372036854775808(%rdi)=deref(-9223372036854775808, reg(rdi)):default");

  std::string deep = "work ";
  for (int i = 0; i < 64; ++i) deep += "+1(";
  deep += "%rdi";
  deep += std::string(64, ')');
  ProbeSpec s = parse_probe(deep);
  const FetchExpr* e = &s.args[0].expr;
  int levels = 0;
  while (const auto* d = std::get_if<fetch::Deref>(&e->node)) {
    ++levels;
    e = d->inner.get();
  }
  CHECK(levels == 64);
}

TEST_CASE("DWARF variables and field paths", "[probe_spec]") {
  CHECK(one_arg("work len") == "len=var(len):default");
  CHECK(one_arg("work req->hdr.len:u32") == "req->hdr.len=var(req->hdr.len):u32");
  CHECK(one_arg("work arr[2]") == "arr[2]=var(arr[2]):default");
  CHECK(one_arg("work a.b[0x1]->c") == "a.b[0x1]->c=var(a.b[0x1]->c):default");
  CHECK(one_arg("work *p") == "*p=var(*p):default");
  CHECK(one_arg("work **pp:u8") == "**pp=var(**pp):u8");
  CHECK(one_arg("work ns::count") == "ns::count=var(ns::count):default");
  CHECK(one_arg("work ns::count:u8") == "ns::count=var(ns::count):u8");
  CHECK(one_arg("work n=_len2") == "n=var(_len2):default");
}

TEST_CASE("string: a plain value is the pointer to the string", "[probe_spec]") {
  CHECK(one_arg("work path=$arg3:string") == "path=deref(0, arg(3)):string");
  CHECK(one_arg("work %rdi:string") == "%rdi=deref(0, reg(rdi)):string");
  CHECK(one_arg("work%return $retval:string") == "retval=deref(0, retval):string");
  // Already a memory reference, or a DWARF variable: unchanged.
  CHECK(one_arg("work +0($arg3):string") == "+0($arg3)=deref(0, arg(3)):string");
  CHECK(one_arg("work +8(%rsi):string") == "+8(%rsi)=deref(8, reg(rsi)):string");
  CHECK(one_arg("work buf:string") == "buf=var(buf):string");
}

TEST_CASE("every type", "[probe_spec]") {
  for (const char* t : {"u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "x8", "x16", "x32", "x64"}) {
    INFO(t);
    CHECK(one_arg(fmt::format("work v=%rdi:{}", t)) == fmt::format("v=reg(rdi):{}", t));
  }
}

TEST_CASE("the SPEC example probe", "[probe_spec]") {
  ProbeSpec s = parse_probe("parse_request len=$arg2:u32 path=+0($arg3):string");
  CHECK(function(s).name == "parse_request");
  REQUIRE(s.args.size() == 2);
  CHECK(describe(s.args[0]) == "len=arg(2):u32");
  CHECK(describe(s.args[1]) == "path=deref(0, arg(3)):string");
  CHECK(s.display_name() == "parse_request");
}

TEST_CASE("several arguments keep their order", "[probe_spec]") {
  ProbeSpec s = parse_probe("libc:write%return fd=$arg1 $retval:s64 +0($sp):x64");
  REQUIRE(s.args.size() == 3);
  CHECK(describe(s.args[0]) == "fd=arg(1):default");
  CHECK(describe(s.args[1]) == "retval=retval:s64");
  CHECK(describe(s.args[2]) == "+0($sp)=deref(0, sp):x64");
}

// ------------------------------------------------------------ fetch errors

TEST_CASE("fetch argument usage errors", "[probe_spec]") {
  struct Row {
    const char* word;
    const char* error;
  };
  const Row rows[] = {
      {"work x=%rdi:u12",
       "bad fetch argument 'x=%rdi:u12' in probe 'work x=%rdi:u12': unknown type 'u12' (types: u8 u16 u32 u64 s8 "
       "s16 s32 s64 x8 x16 x32 x64 string)"},
      {"work %rdi:",
       "bad fetch argument '%rdi:' in probe 'work %rdi:': empty type after ':' (types: u8 u16 u32 u64 s8 s16 s32 "
       "s64 x8 x16 x32 x64 string)"},
      {"work =%rdi", "bad fetch argument '=%rdi' in probe 'work =%rdi': empty name before '='"},
      {"work 1x=%rdi",
       "bad fetch argument '1x=%rdi' in probe 'work 1x=%rdi': the name '1x' is not an identifier "
       "([A-Za-z_][A-Za-z0-9_]*)"},
      {"work a-b=%rdi",
       "bad fetch argument 'a-b=%rdi' in probe 'work a-b=%rdi': the name 'a-b' is not an identifier "
       "([A-Za-z_][A-Za-z0-9_]*)"},
      {"work x=", "bad fetch argument 'x=' in probe 'work x=': empty expression"},
      {"work :u8", "bad fetch argument ':u8' in probe 'work :u8': empty expression"},
      {"work %RDI",
       "bad fetch argument '%RDI' in probe 'work %RDI': bad register '%RDI' (a register is % and its lowercase "
       "name, e.g. %rdi)"},
      {"work %", "bad fetch argument '%' in probe 'work %': bad register '%' (a register is % and its lowercase name, "
                 "e.g. %rdi)"},
      {"work %rdi-4",
       "bad fetch argument '%rdi-4' in probe 'work %rdi-4': bad register '%rdi-4' (a register is % and its "
       "lowercase name, e.g. %rdi)"},
      {"work $arg0",
       "bad fetch argument '$arg0' in probe 'work $arg0': '$arg0' does not exist (arguments count from 1: $arg1)"},
      {"work $arg", "bad fetch argument '$arg' in probe 'work $arg': '$arg' needs an argument number ($arg1, $arg2, ...)"},
      {"work $argx",
       "bad fetch argument '$argx' in probe 'work $argx': unknown variable '$argx' (known: $argN $retval $sp $pc "
       "$params)"},
      {"work $foo",
       "bad fetch argument '$foo' in probe 'work $foo': unknown variable '$foo' (known: $argN $retval $sp $pc "
       "$params)"},
      {"work $", "bad fetch argument '$' in probe 'work $': unknown variable '$' (known: $argN $retval $sp $pc $params)"},
      {"work $sp-8",
       "bad fetch argument '$sp-8' in probe 'work $sp-8': unknown variable '$sp-8' (known: $argN $retval $sp $pc "
       "$params)"},
      {"work $arg99999999999",
       "bad fetch argument '$arg99999999999' in probe 'work $arg99999999999': argument number in '$arg99999999999' "
       "is out of range"},
      {"work $retval",
       "bad fetch argument '$retval' in probe 'work $retval': $retval is only available at a FUNC%return probe"},
      {"work+4 +0($retval)",
       "bad fetch argument '+0($retval)' in probe 'work+4 +0($retval)': $retval is only available at a FUNC%return "
       "probe"},
      {"work $params:u8",
       "bad fetch argument '$params:u8' in probe 'work $params:u8': $params takes no :TYPE (each parameter keeps "
       "its DWARF type)"},
      {"work p=$params",
       "bad fetch argument 'p=$params' in probe 'work p=$params': $params takes no NAME= (each parameter is named "
       "after itself)"},
      {"work +0($params)",
       "bad fetch argument '+0($params)' in probe 'work +0($params)': $params cannot be dereferenced"},
      {"work +8", "bad fetch argument '+8' in probe 'work +8': expected '(' after the offset '+8'"},
      {"work (%rdi)",
       "bad fetch argument '(%rdi)' in probe 'work (%rdi)': missing offset before '(' in '(%rdi)' (e.g. +0(...))"},
      {"work +(%rdi)", "bad fetch argument '+(%rdi)' in probe 'work +(%rdi)': missing offset before '(' in '+(%rdi)'"},
      {"work +0xzz(%rdi)", "bad fetch argument '+0xzz(%rdi)' in probe 'work +0xzz(%rdi)': offset '0xzz' is not a number"},
      {"work +8(%rdi", "bad fetch argument '+8(%rdi' in probe 'work +8(%rdi': missing ')' in '+8(%rdi'"},
      {"work +8(%rdi))",
       "bad fetch argument '+8(%rdi))' in probe 'work +8(%rdi))': unexpected ')' after '+8(%rdi)'"},
      {"work +8(%rdi)x",
       "bad fetch argument '+8(%rdi)x' in probe 'work +8(%rdi)x': unexpected 'x' after '+8(%rdi)'"},
      {"work +8()", "bad fetch argument '+8()' in probe 'work +8()': missing expression in '+8()'"},
      {"work +9223372036854775808(%rdi)",
       "bad fetch argument '+9223372036854775808(%rdi)' in probe 'work +9223372036854775808(%rdi)': offset "
       "'+9223372036854775808' is out of range"},
      {"work -9223372036854775809(%rdi)",
       "bad fetch argument '-9223372036854775809(%rdi)' in probe 'work -9223372036854775809(%rdi)': offset "
       "'-9223372036854775809' is out of range"},
      {"work +99999999999999999999(%rdi)",
       "bad fetch argument '+99999999999999999999(%rdi)' in probe 'work +99999999999999999999(%rdi)': offset "
       "'99999999999999999999' is out of range"},
      {"work 42",
       "bad fetch argument '42' in probe 'work 42': '42' is not a fetch expression (expected %REG, $argN, $retval, "
       "$sp, $pc, $params, +OFF(EXPR) or a variable)"},
      {"work a-b",
       "bad fetch argument 'a-b' in probe 'work a-b': 'a-b' is not a fetch expression (expected %REG, $argN, "
       "$retval, $sp, $pc, $params, +OFF(EXPR) or a variable)"},
      {"work arr[",
       "bad fetch argument 'arr[' in probe 'work arr[': 'arr[' is not a fetch expression (expected %REG, $argN, "
       "$retval, $sp, $pc, $params, +OFF(EXPR) or a variable)"},
      {"work arr[i]",
       "bad fetch argument 'arr[i]' in probe 'work arr[i]': 'arr[i]' is not a fetch expression (expected %REG, "
       "$argN, $retval, $sp, $pc, $params, +OFF(EXPR) or a variable)"},
      {"work a->",
       "bad fetch argument 'a->' in probe 'work a->': 'a->' is not a fetch expression (expected %REG, $argN, "
       "$retval, $sp, $pc, $params, +OFF(EXPR) or a variable)"},
      {"work *",
       "bad fetch argument '*' in probe 'work *': '*' is not a fetch expression (expected %REG, $argN, $retval, "
       "$sp, $pc, $params, +OFF(EXPR) or a variable)"},
      {"work @x",
       "bad fetch argument '@x' in probe 'work @x': '@x' is not a fetch expression (expected %REG, $argN, $retval, "
       "$sp, $pc, $params, +OFF(EXPR) or a variable)"},
      {"work %rdi %rdi",
       "bad fetch argument '%rdi' in probe 'work %rdi %rdi': the name '%rdi' is used twice (name one of them: "
       "NAME=EXPR)"},
      {"work $arg1 arg1=%rsi",
       "bad fetch argument 'arg1=%rsi' in probe 'work $arg1 arg1=%rsi': the name 'arg1' is used twice (name one "
       "of them: NAME=EXPR)"},
      {"work $arg1:u8 $arg1:x8",
       "bad fetch argument '$arg1:x8' in probe 'work $arg1:u8 $arg1:x8': the name 'arg1' is used twice (name one "
       "of them: NAME=EXPR)"},
  };
  for (const Row& row : rows) {
    INFO(row.word);
    CHECK(usage_error(row.word) == row.error);
  }
}

TEST_CASE("a memory reference nested too deep is refused", "[probe_spec]") {
  std::string arg;
  for (int i = 0; i < 65; ++i) arg += "+1(";
  arg += "%rdi";
  arg += std::string(65, ')');
  CHECK(usage_error("work " + arg) ==
        fmt::format("bad fetch argument '{}' in probe 'work {}': nested deeper than 64 levels", arg, arg));
}

TEST_CASE("a location error is reported before argument errors", "[probe_spec]") {
  CHECK(usage_error("work+zz $foo") == "bad probe 'work+zz $foo': offset 'zz' is not a number");
}
