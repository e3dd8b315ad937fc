// Conditions compiled into jump trampolines (arch/x86_64/jump_filter.h):
// the code for one comparison, byte by byte, and, on an x86-64 host, the
// compiled code run on the CPU against the meaning of every comparison
// (register parts, type widths and signedness, each operator, literals that
// need 64 bits, &&, ||, !) over many register values: what the trampoline
// keeps must be exactly what uptrace would keep at a stop.
#include <sys/mman.h>

#include <catch2/catch.hpp>
#include <random>

#include "arch/x86_64/code.h"
#include "arch/x86_64/jump_filter.h"
#include "arch/x86_64/jump_frame.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64;
using namespace uptrace::arch::x86_64::test;

namespace {

JumpFilter compare(std::optional<RegisterRef> reg, uint8_t bytes, bool is_signed, CompareOp op, uint64_t literal) {
  JumpFilter f;
  f.reg = reg;
  f.bytes = bytes;
  f.is_signed = is_signed;
  f.op = op;
  f.literal = literal;
  return f;
}

JumpFilter node(JumpFilter::Kind kind, std::vector<JumpFilter> children) {
  JumpFilter f;
  f.kind = kind;
  f.children = std::move(children);
  return f;
}

// What uptrace computes for the same comparison at a stop: the register
// part read as FetchProgram reads it, cut and extended per the type.
uint64_t value_of(const JumpFilter& f, const Regs& regs, uint64_t site) {
  uint64_t v = f.reg ? read_register(regs, *f.reg) : site;
  const unsigned bits = f.bytes * 8u;
  if (bits < 64) {
    const uint64_t mask = (uint64_t{1} << bits) - 1;
    v &= mask;
    if (f.is_signed && (v >> (bits - 1)) != 0) v |= ~mask;
  }
  return v;
}

bool holds(const JumpFilter& f, const Regs& regs, uint64_t site) {
  switch (f.kind) {
    case JumpFilter::Kind::All:
      for (const JumpFilter& c : f.children)
        if (!holds(c, regs, site)) return false;
      return true;
    case JumpFilter::Kind::Any:
      for (const JumpFilter& c : f.children)
        if (holds(c, regs, site)) return true;
      return false;
    case JumpFilter::Kind::Not: return !holds(f.children.front(), regs, site);
    case JumpFilter::Kind::Compare: break;
  }
  return compare_integers(f.op, value_of(f, regs, site), f.literal, f.is_signed);
}

}  // namespace

TEST_CASE("x86_64 jump filter: one comparison, byte by byte", "[arch][x86_64][filter]") {
  Code c(kNearSlot);
  Code::Label on_false;
  std::string why;
  // $arg1:s32 < -5: edi's low 32 bits, sign-extended, compared signed.
  REQUIRE(emit_jump_filter(c, compare(RegisterRef{kRdi, 64, 0}, 4, true, CompareOp::Lt, static_cast<uint64_t>(-5)),
                           kSite, on_false, why));
  c.bind(on_false);
  CHECK(hex_bytes(c.take()) == hex_bytes({
                                   0x48, 0x89, 0xf8,                    // mov rax, rdi (untouched, read as is)
                                   0x48, 0xc1, 0xe0, 0x20,              // shl rax, 32
                                   0x48, 0xc1, 0xf8, 0x20,              // sar rax, 32  (s32)
                                   0x48, 0x3d, 0xfb, 0xff, 0xff, 0xff,  // cmp rax, -5
                                   0x0f, 0x8d, 0x00, 0x00, 0x00, 0x00,  // jge on_false (here)
                               }));
  // %ah:u64 > 0x100000000: the saved rax, bits 8..15, zero-extended; the
  // literal needs 64 bits.
  Code d(kNearSlot);
  REQUIRE(emit_jump_filter(d, compare(RegisterRef{kRax, 8, 8}, 8, false, CompareOp::Gt, 0x100000000), kSite, on_false,
                           why));
  d.bind(on_false);
  CHECK(hex_bytes(d.take()) == hex_bytes({
                                   0x48, 0x8b, 0x44, 0x24, 0x20,                                // mov rax, [rsp + 32]
                                   0x48, 0xc1, 0xe0, 0x30,                                      // shl rax, 48
                                   0x48, 0xc1, 0xe8, 0x38,                                      // shr rax, 56
                                   0x48, 0xba, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,  // movabs rdx, 1 << 32
                                   0x48, 0x39, 0xd0,                                            // cmp rax, rdx
                                   0x0f, 0x86, 0x00, 0x00, 0x00, 0x00,                          // jbe on_false
                               }));
}

TEST_CASE("x86_64 jump filter: a glob cannot be compiled", "[arch][x86_64][filter]") {
  Code c(kNearSlot);
  Code::Label on_false;
  std::string why;
  CHECK_FALSE(emit_jump_filter(c, compare(RegisterRef{kRdi, 64, 0}, 8, true, CompareOp::Glob, 0), kSite, on_false, why));
  CHECK(why == "a glob match needs the string, which a trampoline cannot read");
}

#if defined(__x86_64__)

namespace {

// Runs the compiled filter on this CPU inside a frame laid out as the
// trampoline's (jump_frame.h): rax, rcx, rdx and rsi saved on the stack,
// every other register holding its value. Returns whether it fell through
// (the condition holds).
class Runner {
 public:
  Runner() {
    mem_ = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  }
  ~Runner() {
    if (mem_ != MAP_FAILED) ::munmap(mem_, kSize);
  }
  bool usable() const { return mem_ != MAP_FAILED; }

  bool run(const JumpFilter& f, const Regs& regs) {
    const auto base = reinterpret_cast<uint64_t>(mem_);
    Code c(base);
    // int run(const uint64_t* words): rdi = words
    c.put({0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57});  // push rbx, rbp, r12-r15
    auto load = [&](unsigned reg, uint16_t word) {  // mov reg, [rdi + 8 * word]
      c.put({static_cast<uint8_t>(0x48 | (reg >= 8 ? 0x04 : 0)), 0x8b, static_cast<uint8_t>(0x87 | ((reg & 7) << 3))});
      c.put_le<uint32_t>(8u * word);
    };
    load(0, kRax);
    c.put({0x50, 0x6a, 0x00});  // push rax; push 0 (the flags' place)
    load(0, kRcx);
    c.put({0x50});
    load(0, kRdx);
    c.put({0x50});
    load(0, kRsi);
    c.put({0x50});
    for (unsigned n : {3u, 5u, 8u, 9u, 10u, 11u, 12u, 13u, 14u, 15u}) load(n, gpr_word(n));
    load(7, kRdi);  // last: it held the words
    Code::Label on_false;
    std::string why;
    REQUIRE(emit_jump_filter(c, f, kSite, on_false, why));
    c.put({0xb8, 0x01, 0x00, 0x00, 0x00});  // mov eax, 1
    Code::Label out;
    c.jump_rel32({0xe9}, out);
    c.bind(on_false);
    c.put({0x31, 0xc0});  // xor eax, eax
    c.bind(out);
    c.put({0x48, 0x83, 0xc4, 0x28});                                      // add rsp, 40
    c.put({0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b});  // pop r15-r12, rbp, rbx
    c.put({0xc3});
    const std::vector<uint8_t> code = c.take();
    REQUIRE(code.size() <= kSize);
    std::memcpy(mem_, code.data(), code.size());
    __builtin___clear_cache(static_cast<char*>(mem_), static_cast<char*>(mem_) + code.size());
    auto fn = reinterpret_cast<int (*)(const uint64_t*)>(mem_);
    return fn(regs.words.data()) != 0;
  }

 private:
  static constexpr size_t kSize = 1 << 16;
  void* mem_;
};

}  // namespace

TEST_CASE("x86_64 jump filter: the CPU keeps exactly what uptrace keeps", "[arch][x86_64][filter]") {
  Runner runner;
  if (!runner.usable()) {
    WARN("no executable memory here; skipped");
    return;
  }
  std::mt19937_64 rng(18);
  const std::vector<uint64_t> interesting = {0,          1,          2,           0x7f,       0x80,       0xff,
                                             0x100,      0x7fff,     0x8000,      0xffff,     0x7fffffff, 0x80000000,
                                             0xffffffff, 0x100000000, UINT64_MAX, UINT64_MAX - 1, uint64_t{1} << 63,
                                             (uint64_t{1} << 63) - 1, static_cast<uint64_t>(-5), 0xff00, 0x1234};
  auto value = [&] { return rng() % 3 == 0 ? rng() : interesting[rng() % interesting.size()]; };
  // Registers the trampoline reads from its frame (rax, rcx, rdx, rsi), from
  // themselves (rdi, rbx, r8, r12, r15), parts of them, and the site.
  const std::vector<std::optional<RegisterRef>> refs = {
      RegisterRef{kRdi, 64, 0}, RegisterRef{kRsi, 64, 0}, RegisterRef{kRax, 64, 0}, RegisterRef{kRcx, 32, 0},
      RegisterRef{kRdx, 16, 0}, RegisterRef{kRbx, 8, 0},  RegisterRef{kRax, 8, 8},  RegisterRef{kRdi, 32, 0},
      RegisterRef{kR8, 64, 0},  RegisterRef{kR12, 16, 0}, RegisterRef{kR15, 8, 0},  RegisterRef{kRcx, 8, 8},
      std::nullopt};
  const CompareOp ops[] = {CompareOp::Eq, CompareOp::Ne, CompareOp::Lt, CompareOp::Le, CompareOp::Gt, CompareOp::Ge};
  auto random_compare = [&](Regs& regs) {
    const std::optional<RegisterRef>& ref = refs[rng() % refs.size()];
    const uint8_t bytes = static_cast<uint8_t>(1u << (rng() % 4));
    JumpFilter f = compare(ref, bytes, rng() % 2 == 0, ops[rng() % 6], value());
    // Half the time the literal is the value itself or next to it, so == and
    // the boundaries of < and <= are hit, not only far-apart values.
    if (rng() % 2 == 0) f.literal = value_of(f, regs, kSite) + (rng() % 3) - 1;
    return f;
  };
  size_t checked = 0, held = 0;
  for (int round = 0; round < 3000; ++round) {
    Regs regs;
    for (uint64_t& w : regs.words) w = value();
    JumpFilter f;
    switch (round % 4) {
      case 0:
      case 1: f = random_compare(regs); break;
      case 2: f = node(rng() % 2 ? JumpFilter::Kind::All : JumpFilter::Kind::Any,
                       {random_compare(regs), random_compare(regs), random_compare(regs)});
        break;
      case 3:
        f = node(JumpFilter::Kind::Not,
                 {node(JumpFilter::Kind::Any, {node(JumpFilter::Kind::All, {random_compare(regs), random_compare(regs)}),
                                               node(JumpFilter::Kind::Not, {random_compare(regs)})})});
        break;
    }
    const bool expected = holds(f, regs, kSite);
    INFO("round " << round);
    REQUIRE(runner.run(f, regs) == expected);
    ++checked;
    held += expected;
  }
  // Both outcomes were exercised, plenty of each.
  CHECK(held > checked / 5);
  CHECK(checked - held > checked / 5);
}

#endif
