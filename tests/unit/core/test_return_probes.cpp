// core/return_probes on aarch64, where the return address is in x30 at the
// entry and the prologue saves it where the CFI says: the hijack in the
// register, the frame's slot, tail calls, longjmp, the unwinder hooks, and
// what detach puts back. The "target" is this process: its stack is a
// buffer here, reached through /proc/self/mem as a tracee's would be; the
// trampoline is an address that is never run.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <vector>

#include "arch/aarch64/aarch64_isa.h"
#include "arch/aarch64/registers.h"
#include "core/address_space.h"
#include "core/return_probes.h"
#include "core/thread.h"

using namespace uptrace;
using namespace uptrace::core;
namespace a64 = uptrace::arch::aarch64;

namespace {

constexpr uint64_t kTrampoline = 0x7e5700001000;
constexpr uint32_t kSaves8 = 0;      // saves x30 at entry sp - 8 (stp x29, x30, [sp, #-16]!)
constexpr uint32_t kLeaf = 1;        // never saves it
constexpr uint32_t kSaves40 = 2;     // saves it at entry sp - 40
constexpr uint32_t kUnwinder = 3;    // _Unwind_RaiseException
constexpr uint32_t kCatch = 4;       // __cxa_begin_catch

struct Fixture {
  const arch::Isa& isa = a64::aarch64_isa();
  std::vector<uint64_t> stack = std::vector<uint64_t>(512, 0);
  AddressSpace space{getpid()};
  ReturnProbes returns{isa};
  Thread t;

  Fixture() {
    space.return_trampoline = RuntimeAddr(kTrampoline);
    auto site = [&](ProbeRole role, std::optional<int64_t> spill) {
      ArmedSite s{RuntimeAddr(0x400000 + 0x100 * space.sites.size()), RuntimeAddr(0), nullptr, {}, spill};
      s.probes.push_back({0, FetchProgram(), role});
      space.sites.push_back(std::move(s));
    };
    site(ProbeRole::Return, -8);
    site(ProbeRole::Return, std::nullopt);
    site(ProbeRole::Return, -40);
    site(ProbeRole::UnwindStart, std::nullopt);
    site(ProbeRole::CatchStart, std::nullopt);
  }
  uint64_t top() const { return reinterpret_cast<uint64_t>(stack.data() + stack.size()); }
  uint64_t& word(uint64_t addr) { return stack[(addr - reinterpret_cast<uint64_t>(stack.data())) / 8]; }
  // A thread entering site `site` with this sp and x30.
  arch::Regs enter(uint32_t site, uint64_t sp, uint64_t x30) {
    arch::Regs r;
    r.words[a64::kSp] = sp;
    r.words[a64::kLr] = x30;
    r.words[a64::kPc] = space.sites[site].addr.value;
    returns.on_site_hit(t, space, site, r);
    return r;
  }
  // The prologue of a function entered at `entry_sp` saving x30 at `spill`.
  void save(uint64_t entry_sp, int64_t spill, uint64_t x30) { word(entry_sp + static_cast<uint64_t>(spill)) = x30; }
  // ret to the trampoline with this sp.
  std::vector<ReturnFrame> ret(uint64_t sp, arch::Regs& r) {
    r.words[a64::kSp] = sp;
    r.words[a64::kLr] = kTrampoline;
    r.words[a64::kPc] = kTrampoline;
    return returns.on_trampoline(t, space, r, {});
  }
};

}  // namespace

TEST_CASE("aarch64 returns: x30 is replaced at the entry and the frame's slot is where the prologue saves it",
          "[return][aarch64]") {
  Fixture f;
  const uint64_t sp = f.top() - 0x100;
  arch::Regs r = f.enter(kSaves8, sp, 0x400abc);
  CHECK(r.words[a64::kLr] == kTrampoline);
  REQUIRE(f.t.returns.size() == 1);
  const ReturnFrame& fr = f.t.returns.frames().back();
  CHECK(fr.slot == sp - 8);
  CHECK(fr.entry_sp == sp);
  CHECK(fr.sp_after == sp);
  CHECK(fr.orig_ret == 0x400abc);
  CHECK(fr.moves);
  // The prologue saves it; the epilogue loads it back and returns.
  f.save(sp, -8, r.words[a64::kLr]);
  auto frames = f.ret(sp, r);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0].orig_ret == 0x400abc);
  CHECK(r.words[a64::kPc] == 0x400abc);
  CHECK(r.words[a64::kLr] == 0x400abc);  // as a real ret would leave it
  CHECK(f.t.returns.empty());
}

TEST_CASE("aarch64 returns: detach before the prologue saves x30 puts it back in the register", "[return][aarch64]") {
  Fixture f;
  const uint64_t sp = f.top() - 0x100;
  arch::Regs r = f.enter(kSaves8, sp, 0x400abc);
  f.word(sp - 8) = 0x1234;  // what the stack held before
  CHECK(f.returns.restore_register(f.t, r, f.space.return_trampoline));
  CHECK(r.words[a64::kLr] == 0x400abc);
  CHECK(f.returns.restore(f.t.returns, f.space.memory, f.space.return_trampoline) == 0);
  CHECK(f.word(sp - 8) == 0x1234);  // never written: it did not hold the trampoline
}

TEST_CASE("aarch64 returns: detach after the save restores the slot, and x30 only if it holds the trampoline",
          "[return][aarch64]") {
  Fixture f;
  const uint64_t sp = f.top() - 0x100;
  arch::Regs r = f.enter(kSaves8, sp, 0x400abc);
  f.save(sp, -8, kTrampoline);
  r.words[a64::kLr] = 0x400f00;  // a bl since
  r.words[a64::kSp] = sp - 16;
  CHECK_FALSE(f.returns.restore_register(f.t, r, f.space.return_trampoline));
  CHECK(r.words[a64::kLr] == 0x400f00);
  CHECK(f.returns.restore(f.t.returns, f.space.memory, f.space.return_trampoline) == 0);
  CHECK(f.word(sp - 8) == 0x400abc);
}

TEST_CASE("aarch64 returns: a leaf keeps x30 for good, and detach puts the real address back there", "[return][aarch64]") {
  Fixture f;
  const uint64_t sp = f.top() - 0x100;
  arch::Regs r = f.enter(kLeaf, sp, 0x400abc);
  REQUIRE(f.t.returns.size() == 1);
  CHECK(f.t.returns.frames().back().slot == 0);
  CHECK(f.returns.real_register(f.t, sp, kTrampoline, f.space.return_trampoline) == 0x400abc);
  CHECK(f.returns.restore_register(f.t, r, f.space.return_trampoline));
  CHECK(r.words[a64::kLr] == 0x400abc);
}

TEST_CASE("aarch64 returns: recursion pairs by entry sp, and a slot below a live frame is not looked at",
          "[return][aarch64]") {
  Fixture f;
  const uint64_t sp = f.top() - 0x100;
  arch::Regs r = f.enter(kSaves8, sp, 0x400abc);
  f.save(sp, -8, kTrampoline);
  // The recursive call, before its prologue: its slot is sp - 16 - 8, and the
  // caller's frame, above, stays.
  r = f.enter(kSaves8, sp - 16, 0x400b10);
  REQUIRE(f.t.returns.size() == 2);
  f.save(sp - 16, -8, kTrampoline);
  auto inner = f.ret(sp - 16, r);
  REQUIRE(inner.size() == 1);
  CHECK(inner[0].orig_ret == 0x400b10);
  auto outer = f.ret(sp, r);
  REQUIRE(outer.size() == 1);
  CHECK(outer[0].orig_ret == 0x400abc);
}

TEST_CASE("aarch64 returns: a frame left by longjmp is dropped when its stack position is entered again",
          "[return][aarch64]") {
  Fixture f;
  const uint64_t sp = f.top() - 0x100;
  arch::Regs r = f.enter(kSaves8, sp, 0x400abc);
  f.save(sp, -8, kTrampoline);  // saved, then abandoned: the slot still holds the trampoline
  r = f.enter(kSaves40, sp, 0x400ccc);  // another function called from the same place
  REQUIRE(f.t.returns.size() == 1);
  CHECK(f.t.returns.frames().back().orig_ret == 0x400ccc);
  CHECK(f.t.returns.frames().back().slot == sp - 40);
}

TEST_CASE("aarch64 returns: a tail call with x30 = trampoline chains to the frame entered at the same sp",
          "[return][aarch64]") {
  Fixture f;
  const uint64_t sp = f.top() - 0x100;
  arch::Regs r = f.enter(kSaves8, sp, 0x400abc);
  f.save(sp, -8, kTrampoline);
  // Epilogue: ldp x29, x30, [sp], #16 (x30 = trampoline), then b callee.
  r = f.enter(kSaves40, sp, kTrampoline);
  CHECK(r.words[a64::kLr] == kTrampoline);
  REQUIRE(f.t.returns.size() == 2);
  CHECK(f.t.returns.frames().back().chained);
  CHECK(f.t.returns.frames().back().slot == sp - 40);
  f.save(sp, -40, kTrampoline);
  auto frames = f.ret(sp, r);
  REQUIRE(frames.size() == 2);
  CHECK(frames[0].site == kSaves40);
  CHECK(frames[1].site == kSaves8);
  CHECK(r.words[a64::kPc] == 0x400abc);
  CHECK(f.t.returns.empty());
}

TEST_CASE("aarch64 returns: a leaf reached by a tail call chains too", "[return][aarch64]") {
  Fixture f;
  const uint64_t sp = f.top() - 0x100;
  arch::Regs r = f.enter(kLeaf, sp, 0x400abc);
  r = f.enter(kLeaf, sp, kTrampoline);  // b to another leaf
  REQUIRE(f.t.returns.size() == 2);
  CHECK(f.t.returns.frames().back().chained);
  CHECK(f.ret(sp, r).size() == 2);
}

TEST_CASE("aarch64 returns: the depth limit counts, and enclosing frames are never dropped to make room",
          "[return][aarch64]") {
  Fixture f;
  uint64_t sp = f.top() - 0x40;
  for (size_t i = 0; i < ReturnStack::kMaxDepth; ++i, sp -= 0x10) f.enter(kSaves8, sp, 0x400000 + i);
  // None has saved x30 yet as far as memory shows: still not provably dead.
  f.enter(kSaves8, sp, 0x500000);
  CHECK(f.t.returns.size() == ReturnStack::kMaxDepth);
  auto summary = f.returns.take_summary();
  REQUIRE(summary.size() == 1);
  CHECK(summary[0] == "1 returns not traced (nesting deeper than 64)");
}

TEST_CASE("aarch64 returns: a C++ throw sees the real addresses, and the frames above the catch are hijacked again",
          "[return][aarch64]") {
  Fixture f;
  const uint64_t m = f.top() - 0x100;  // middle
  const uint64_t t = m - 0x20;         // thrower, called from middle
  f.enter(kSaves8, m, 0x400abc);
  f.save(m, -8, kTrampoline);
  f.enter(kSaves8, t, 0x400def);
  f.save(t, -8, kTrampoline);
  // A frame whose slot never got the trampoline: its return address may be in
  // a register or a tail-callee's frame, so it is left alone.
  f.enter(kSaves40, t - 0x40, 0x400777);
  arch::Regs r;
  r.words[a64::kSp] = t - 0x100;
  f.returns.on_site_hit(f.t, f.space, kUnwinder, r);
  CHECK(f.word(m - 8) == 0x400abc);
  CHECK(f.word(t - 8) == 0x400def);
  REQUIRE(f.t.returns.size() == 3);
  CHECK_FALSE(f.t.returns.frames()[0].armed);
  CHECK_FALSE(f.t.returns.frames()[1].armed);
  CHECK(f.t.returns.frames()[2].armed);
  // Caught in middle: __cxa_begin_catch is called with middle's sp, the sp
  // thrower was entered with.
  r.words[a64::kSp] = t;
  f.returns.on_site_hit(f.t, f.space, kCatch, r);
  REQUIRE(f.t.returns.size() == 2);
  CHECK(f.t.returns.frames()[0].orig_ret == 0x400abc);
  CHECK(f.t.returns.frames()[0].armed);
  CHECK(f.word(m - 8) == kTrampoline);
}

TEST_CASE("aarch64 returns: detach finds the trampoline where an unprobed tail callee saved it", "[return][aarch64]") {
  Fixture f;
  const uint64_t a = f.top() - 0x100;  // an outer probed frame
  const uint64_t e = a - 0x40;         // the probed function that tail-calls
  f.enter(kSaves8, a, 0x400aaa);
  f.save(a, -8, kTrampoline);
  f.enter(kSaves8, e, 0x400abc);
  f.save(e, -8, kTrampoline);
  // Its epilogue loads x30 = trampoline and branches to a function uptrace
  // does not probe, which saves x30 at e - 56 and puts a local where the
  // caller's slot was.
  f.word(e - 56) = kTrampoline;
  f.word(e - 8) = 0x5555;
  const uint64_t sp = e - 0x80;  // deeper still, in a callee of the callee
  f.word(sp + 8) = kTrampoline;  // a signal frame's copy of x30, say, of the innermost frame (e)
  const uint64_t limit = f.top();
  CHECK(f.returns.restore_moved(f.t.returns, sp, limit, f.space.memory, f.space.return_trampoline) == 3);
  CHECK(f.word(e - 56) == 0x400abc);
  CHECK(f.word(sp + 8) == 0x400abc);
  CHECK(f.word(a - 8) == 0x400aaa);  // the outer frame's own slot, found the same way
  CHECK(f.word(e - 8) == 0x5555);
  // Nothing is left for restore() to do, and it writes nothing wrong.
  CHECK(f.returns.restore(f.t.returns, f.space.memory, f.space.return_trampoline) == 0);
  CHECK(f.word(e - 8) == 0x5555);
}

TEST_CASE("aarch64 returns: the scan stays in the stack's mapping and below the frames", "[return][aarch64]") {
  Fixture f;
  const uint64_t a = f.top() - 0x100;
  f.enter(kSaves8, a, 0x400aaa);
  f.word(a + 8) = kTrampoline;  // above every frame: not this stack's business
  f.word(a - 8) = kTrampoline;
  // The mapping ends below the frame: it is another stack's, nothing is done.
  CHECK(f.returns.restore_moved(f.t.returns, a - 0x40, a - 0x10, f.space.memory, f.space.return_trampoline) == 0);
  CHECK(f.word(a - 8) == kTrampoline);
  CHECK(f.returns.restore_moved(f.t.returns, a - 0x40, f.top(), f.space.memory, f.space.return_trampoline) == 1);
  CHECK(f.word(a - 8) == 0x400aaa);
  CHECK(f.word(a + 8) == kTrampoline);
  // A thread above its frames (they are dead, or of another stack): nothing.
  f.word(a - 8) = kTrampoline;
  CHECK(f.returns.restore_moved(f.t.returns, a, f.top(), f.space.memory, f.space.return_trampoline) == 0);
}
