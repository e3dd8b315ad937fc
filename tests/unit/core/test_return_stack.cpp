// The pairing rule of core/return_stack.h, on frames laid out as the
// scenarios make them (x86-64: entry sp = slot, sp_after = slot + 8;
// aarch64: sp_after = entry sp, the slot below it where the prologue saves
// x30, or none).
#include <catch2/catch.hpp>

#include "core/return_stack.h"

using uptrace::core::ReturnFrame;
using uptrace::core::ReturnStack;

namespace {

ReturnFrame frame(uint64_t slot, uint64_t ret, uint32_t site = 0, bool chained = false) {
  ReturnFrame f;
  f.slot = slot;
  f.entry_sp = slot;
  f.sp_after = slot + 8;
  f.orig_ret = ret;
  f.site = site;
  f.chained = chained;
  return f;
}

}  // namespace

TEST_CASE("return stack: recursion pairs each return with its own level", "[return]") {
  ReturnStack s;
  s.push(frame(0x1000, 0xa));
  s.push(frame(0xf00, 0xb));
  s.push(frame(0xe00, 0xb));
  auto r = s.pop_returning(0xe08);
  REQUIRE(r.size() == 1);
  REQUIRE(r[0].slot == 0xe00);
  REQUIRE(s.pop_returning(0xf08)[0].slot == 0xf00);
  REQUIRE(s.pop_returning(0x1008)[0].orig_ret == 0xa);
  REQUIRE(s.empty());
}

TEST_CASE("return stack: frames left by longjmp stay behind and are skipped", "[return]") {
  ReturnStack s;
  s.push(frame(0x1000, 0xa));
  s.push(frame(0xe00, 0xdead));  // abandoned by longjmp
  s.push(frame(0xf00, 0xc));     // a new call at a shallower depth
  auto r = s.pop_returning(0xf08);
  REQUIRE(r.size() == 1);
  REQUIRE(r[0].orig_ret == 0xc);
  // The same slot hijacked again: the newest hijack is the one returning.
  s.push(frame(0xe00, 0xe));
  REQUIRE(s.pop_returning(0xe08)[0].orig_ret == 0xe);
  REQUIRE(s.pop_returning(0x1008)[0].orig_ret == 0xa);
  REQUIRE(s.size() == 1);  // the dead one, harmless
  REQUIRE(s.pop_returning(0x2000).empty());
}

TEST_CASE("return stack: another stack's frames are not disturbed by a return on this one", "[return]") {
  ReturnStack s;
  s.push(frame(0x7000, 0x1));  // main stack
  s.push(frame(0x3000, 0x2));  // coroutine stack, lower, suspended
  s.push(frame(0x6f00, 0x3));  // main stack again
  REQUIRE(s.pop_returning(0x6f08)[0].orig_ret == 0x3);
  REQUIRE(s.pop_returning(0x3008)[0].orig_ret == 0x2);
  REQUIRE(s.pop_returning(0x7008)[0].orig_ret == 0x1);
}

TEST_CASE("return stack: a tail-call chain returns together, innermost first", "[return]") {
  ReturnStack s;
  s.push(frame(0x1000, 0xa, 1));
  s.push(frame(0xe00, 0xdead, 9));  // dead, in between
  s.push(frame(0x1000, 0xa, 2, true));
  auto r = s.pop_returning(0x1008);
  REQUIRE(r.size() == 2);
  REQUIRE(r[0].site == 2);
  REQUIRE(r[1].site == 1);
  REQUIRE(s.size() == 1);
}

TEST_CASE("return stack: frames disarmed for an unwinder are not matched", "[return]") {
  ReturnStack s;
  s.push(frame(0x1000, 0xa));
  s.frames().back().armed = false;
  REQUIRE(s.pop_returning(0x1008).empty());
  REQUIRE(s.newest_at_slot(0x1000) == nullptr);
  REQUIRE(s.drop_if([](const ReturnFrame& f) { return !f.armed; }) == 1);
}

namespace {

// aarch64: entered with sp `entry_sp`, x30 saved at entry_sp + spill (0: never).
ReturnFrame a64_frame(uint64_t entry_sp, int64_t spill, uint64_t ret, uint32_t site = 0, bool chained = false) {
  ReturnFrame f;
  f.entry_sp = entry_sp;
  f.slot = spill ? entry_sp + static_cast<uint64_t>(spill) : 0;
  f.sp_after = entry_sp;
  f.orig_ret = ret;
  f.site = site;
  f.chained = chained;
  f.moves = true;
  return f;
}

}  // namespace

TEST_CASE("return stack: an aarch64 tail-call chain is found by entry sp, not by slot", "[return]") {
  ReturnStack s;
  // The caller saved x30 at entry sp - 8; after its epilogue it branched to
  // the callee, which saves it at entry sp - 40 (a bigger frame).
  s.push(a64_frame(0x1000, -8, 0xa, 1));
  REQUIRE(s.newest_at_entry(0x1000) == &s.frames().back());
  REQUIRE(s.newest_at_slot(0x1000 - 40) == nullptr);
  s.push(a64_frame(0xe00, -8, 0xdead, 9));  // dead, in between
  s.push(a64_frame(0x1000, -40, 0xa, 2, true));
  auto r = s.pop_returning(0x1000);
  REQUIRE(r.size() == 2);
  REQUIRE(r[0].site == 2);
  REQUIRE(r[1].site == 1);
  REQUIRE(s.size() == 1);
}

TEST_CASE("return stack: the innermost frame at a stack pointer, for a return address in a register", "[return]") {
  ReturnStack s;
  s.push(a64_frame(0x3000, -16, 0xc));  // a coroutine's, suspended on another stack
  s.push(a64_frame(0x2000, -16, 0xa));
  s.push(a64_frame(0x1f00, 0, 0xb));    // a leaf, running: no slot, x30 holds the trampoline
  REQUIRE(s.innermost(0x1f00)->orig_ret == 0xb);
  REQUIRE(s.innermost(0x1ef0)->orig_ret == 0xb);  // below its entry sp, if it moved sp
  REQUIRE(s.pop_returning(0x1f00).size() == 1);
  REQUIRE(s.innermost(0x1f80)->orig_ret == 0xa);
  REQUIRE(s.innermost(0x2001)->orig_ret == 0xc);
  REQUIRE(s.innermost(0x3001) == nullptr);
  s.frames().back().armed = false;
  REQUIRE(s.innermost(0x1f80)->orig_ret == 0xc);
}
