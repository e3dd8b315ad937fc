// Jump plans: the bytes written over the site, the trampoline's frame
// (red zone skipped, flags kept without pushfq), the jump back, and the
// refusals that keep a jump from ever landing a thread mid-instruction.
#include <algorithm>

#include <catch2/catch.hpp>

#include "common/ring_layout.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64::test;

namespace {

constexpr uint64_t kRing = 0x7f0000100000;

SiteAnalysis analyze_jump(const Bytes& function, uint64_t offset = 0, std::vector<uint16_t> words = {}) {
  JumpContext jump{RuntimeAddr(kRing), ring::kDefaultCapacity, {{7, std::move(words), std::nullopt}}};
  SiteContext ctx{RuntimeAddr(kSite), function, RuntimeAddr(kSite + offset), RuntimeAddr(kNearSlot), ModeRequest::Jump};
  ctx.jump = &jump;
  return isa().analyze(ctx);
}

Bytes le32(int64_t v) {
  Bytes b;
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
  return b;
}

}  // namespace

TEST_CASE("x86_64 jump: the site becomes a jmp to the trampoline, padded with int3", "[arch][x86_64]") {
  // 48 8b 05 e1 2e 00 00  mov rax, [rip + 0x2ee1]      <- site (7 bytes)
  // c3                    ret
  SiteAnalysis a = analyze_jump({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00, 0xc3}, 0, {10, 14});
  INFO(a.refusal);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Jump);
  // e9 fb 0f 00 00        jmp 0x402000 (the trampoline)
  // cc cc                 never run
  Bytes patch{0xe9};
  for (uint8_t b : le32(static_cast<int64_t>(kNearSlot - (kSite + 5)))) patch.push_back(b);
  patch.push_back(0xcc);
  patch.push_back(0xcc);
  CHECK(a.plan->site_patch() == patch);

  const Bytes code = a.plan->slot_code();
  // lea rsp, [rsp - 128]; push rax; lahf; seto al; push rax; push rcx; push rdx; push rsi
  const Bytes prologue{0x48, 0x8d, 0x64, 0x24, 0x80, 0x50, 0x9f, 0x0f, 0x90, 0xc0, 0x50, 0x51, 0x52, 0x56};
  REQUIRE(code.size() > prologue.size() + 20);
  CHECK(Bytes(code.begin(), code.begin() + prologue.size()) == prologue);
  // pop rsi, rdx, rcx, rax; add al, 0x7f; sahf; pop rax; lea rsp, [rsp + 128]
  const Bytes epilogue{0x5e, 0x5a, 0x59, 0x58, 0x04, 0x7f, 0x9e, 0x58, 0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00};
  // then the displaced mov, re-encoded for where it runs, and jmp site + 7
  const size_t tail = epilogue.size() + 7 + 5;
  CHECK(Bytes(code.end() - static_cast<long>(tail), code.end() - 12) == epilogue);
  const uint64_t mov_at = kNearSlot + code.size() - 12;
  CHECK(Bytes(code.end() - 12, code.end() - 9) == Bytes{0x48, 0x8b, 0x05});
  CHECK(Bytes(code.end() - 9, code.end() - 5) == le32(static_cast<int64_t>(kSite + 7 + 0x2ee1 - (mov_at + 7))));
  Bytes back{0xe9};
  for (uint8_t b : le32(static_cast<int64_t>(kSite + 7 - (kNearSlot + code.size())))) back.push_back(b);
  CHECK(Bytes(code.end() - 5, code.end()) == back);
  // Found at the trampoline's start or its displaced copy, a thread is as at the site.
  CHECK(a.plan->original_pc(kNearSlot) == kSite);
  CHECK(a.plan->original_pc(mov_at) == kSite);
  CHECK(a.plan->original_pc(kNearSlot + 5) == std::nullopt);
  CHECK(a.plan->describe() ==
        "7 bytes at the site become a jmp to a trampoline that records the hit without stopping, runs 1 displaced "
        "instruction and jumps back to 0x401007 (rip-relative operands re-encoded for the trampoline)");
}

TEST_CASE("x86_64 jump: the record the trampoline writes, byte by byte", "[arch][x86_64]") {
  // 48 89 e5  mov rbp, rsp  <- site ; 48 89 c3  mov rbx, rax ; c3  ret
  // recording rdi, rax, rsp and rip as probe 7
  SiteAnalysis a = analyze_jump({0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0xc3}, 0,
                                {x86_64::kRdi, x86_64::kRax, x86_64::kRsp, x86_64::kRip});
  INFO(a.refusal);
  REQUIRE(a.plan);
  const Bytes code = a.plan->slot_code();
  const Bytes record{
      0x48, 0xbe, 0x00, 0x00, 0x10, 0x00, 0x00, 0x7f, 0x00, 0x00,  // movabs rsi, 0x7f0000100000 (the ring)
      // retry: tail first, then head, so head - tail cannot wrap below zero
      0x48, 0x8b, 0x56, 0x40,                                      // mov rdx, [rsi + 64]   (tail)
      0x48, 0x8b, 0x06,                                            // mov rax, [rsi]        (head)
      0x48, 0x89, 0xc1,                                            // mov rcx, rax
      0x48, 0x29, 0xd1,                                            // sub rcx, rdx
      0x48, 0x81, 0xf9, 0x00, 0x00, 0x04, 0x00,                    // cmp rcx, 0x40000      (capacity)
      0x0f, 0x83, 0xaa, 0x00, 0x00, 0x00,                          // jae full
      0x48, 0x8d, 0x50, 0x01,                                      // lea rdx, [rax + 1]    (the commit word)
      0xf0, 0x48, 0x0f, 0xb1, 0x16,                                // lock cmpxchg [rsi], rdx
      0x0f, 0x85, 0xd7, 0xff, 0xff, 0xff,                          // jne retry
      0x25, 0xff, 0xff, 0x03, 0x00,                                // and eax, 0x3ffff
      0xc1, 0xe0, 0x06,                                            // shl eax, 6
      0x48, 0x8d, 0x8c, 0x06, 0x00, 0x10, 0x00, 0x00,              // lea rcx, [rsi + rax + 0x1000]
      0x31, 0xc0,                                                  // xor eax, eax
      0x48, 0x83, 0xbe, 0xc0, 0x00, 0x00, 0x00, 0x01,              // cmp qword [rsi + 0xc0], 1  (how threads are named)
      0x0f, 0x82, 0x2a, 0x00, 0x00, 0x00,                          // jb store             (not yet)
      0x0f, 0x87, 0x12, 0x00, 0x00, 0x00,                          // ja kernel_tid
      0x64, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00,        // mov rax, fs:[0]      (glibc's self pointer)
      0x48, 0x85, 0xc0,                                            // test rax, rax
      0x0f, 0x85, 0x12, 0x00, 0x00, 0x00,                          // jnz store            (else: Go's 0 there)
      0x51, 0x41, 0x53,                                            // kernel_tid: push rcx; push r11
      0xb8, 0xba, 0x00, 0x00, 0x00,                                // mov eax, 186         (gettid)
      0x0f, 0x05,                                                  // syscall
      0x41, 0x5b, 0x59,                                            // pop r11; pop rcx
      0x48, 0x0f, 0xba, 0xe8, 0x3f,                                // bts rax, 63          (a thread id, not a pointer)
      0x48, 0x89, 0x41, 0x10,                                      // store: mov [rcx + 16], rax   (thread)
      0x48, 0x89, 0xd6,                                            // mov rsi, rdx
      0x0f, 0x31,                                                  // rdtsc                 (after the lock)
      0x48, 0xc1, 0xe2, 0x20,                                      // shl rdx, 32
      0x48, 0x09, 0xd0,                                            // or rax, rdx
      0x48, 0x89, 0x41, 0x08,                                      // mov [rcx + 8], rax    (time)
      0x48, 0xb8, 0x07, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,  // movabs rax, 4 << 32 | 7
      0x48, 0x89, 0x41, 0x18,                                      // mov [rcx + 24], rax   (probe, count)
      0x48, 0x89, 0x79, 0x20,                                      // mov [rcx + 32], rdi   (untouched: stored as is)
      0x48, 0x8b, 0x44, 0x24, 0x20,                                // mov rax, [rsp + 32]   (the saved rax)
      0x48, 0x89, 0x41, 0x28,                                      // mov [rcx + 40], rax
      0x48, 0x8d, 0x84, 0x24, 0xa8, 0x00, 0x00, 0x00,              // lea rax, [rsp + 168]  (rsp at the site)
      0x48, 0x89, 0x41, 0x30,                                      // mov [rcx + 48], rax
      0x48, 0xb8, 0x00, 0x10, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00,  // movabs rax, 0x401000  (rip: the site)
      0x48, 0x89, 0x41, 0x38,                                      // mov [rcx + 56], rax
      0x48, 0x89, 0x31,                                            // mov [rcx], rsi        (published last)
      0xe9, 0x06, 0x00, 0x00, 0x00,                                // jmp done
      0xcc,                                                        // full: int3 (uptrace drains the ring)
      0xe9, 0x36, 0xff, 0xff, 0xff,                                // jmp retry
  };                                                               // done:
  const size_t prologue = 14, epilogue = 16, displaced = 6, back = 5;
  REQUIRE(code.size() == prologue + record.size() + epilogue + displaced + back);
  CHECK(hex_bytes(Bytes(code.begin() + prologue, code.begin() + static_cast<long>(prologue + record.size()))) ==
        hex_bytes(record));
  // 5e 5a 59 58 04 7f 9e 58 48 8d a4 24 80 00 00 00: as above; then both moves, as they were
  CHECK(Bytes(code.end() - 11, code.end() - 5) == Bytes{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3});
  // The trap where a writer waits for room is the plan's, and only that one.
  const uint64_t full_trap = kNearSlot + prologue + record.size() - 6;
  CHECK(code[full_trap - kNearSlot] == 0xcc);
  CHECK(a.plan->is_ring_full_trap(RuntimeAddr(full_trap)));
  CHECK_FALSE(a.plan->is_ring_full_trap(RuntimeAddr(full_trap + 1)));
  CHECK_FALSE(a.plan->is_ring_full_trap(RuntimeAddr(kNearSlot)));
  // Right after the gettid syscall, and only there, a step's end may be the
  // kernel's TRAP_BRKPT (ProbePlan::follows_syscall).
  const Bytes syscall{0xb8, 0xba, 0x00, 0x00, 0x00, 0x0f, 0x05};
  auto at = std::search(code.begin(), code.end(), syscall.begin(), syscall.end());
  REQUIRE(at != code.end());
  const uint64_t syscall_end = kNearSlot + static_cast<uint64_t>(at - code.begin()) + syscall.size();
  CHECK(a.plan->follows_syscall(syscall_end));
  CHECK_FALSE(a.plan->follows_syscall(syscall_end - 2));
  CHECK_FALSE(a.plan->follows_syscall(syscall_end + 1));
  CHECK_FALSE(a.plan->follows_syscall(kNearSlot));
}

TEST_CASE("x86_64 jump: refused where the overwritten bytes are not safe to displace", "[arch][x86_64]") {
  // e8 fb 01 00 00        call: its return address would point into the trampoline
  CHECK(analyze_jump({0xe8, 0xfb, 0x01, 0x00, 0x00, 0xc3}).refusal ==
        "cannot jump: the call within the 5 bytes a jump overwrites cannot run from a trampoline");
  // 55 / c3 / ...         a ret before 5 bytes are covered
  CHECK(analyze_jump({0x55, 0xc3, 0x90, 0x90, 0x90, 0x90}).refusal ==
        "cannot jump: the ret within the 5 bytes a jump overwrites cannot run from a trampoline");
  // 48 89 e5 / 90 / 90 / c3  with the function ending 2 bytes later
  CHECK(analyze_jump({0x48, 0x89, 0xe5, 0x90}).refusal == "cannot jump: the function ends less than 5 bytes after the site");
}

TEST_CASE("x86_64 jump: a branch into the overwritten bytes refuses", "[arch][x86_64]") {
  // site: 48 89 e5  mov rbp, rsp ; 48 89 c3  mov rbx, rax ; 75 fb  jne site+3 ; c3
  const Bytes function{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x75, 0xfb, 0xc3};
  CHECK(analyze_jump(function).refusal == "cannot jump: the jne at +0x6 lands inside the bytes a jump would overwrite");
  // The same loop to the site itself is fine: the jmp is whole there.
  const Bytes to_site{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x75, 0xf8, 0xc3};
  CHECK(analyze_jump(to_site).plan != nullptr);
  // ff e0  jmp rax: targets unknown
  const Bytes indirect{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0xff, 0xe0};
  CHECK(analyze_jump(indirect).refusal == "cannot jump: the function has an indirect jump at +0x6 whose targets are unknown");
}

TEST_CASE("x86_64 jump: records at most four register values", "[arch][x86_64]") {
  const Bytes function{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0xc3};
  CHECK(analyze_jump(function, 0, {1, 2, 3, 4}).plan != nullptr);
  CHECK(analyze_jump(function, 0, {1, 2, 3, 4, 5}).refusal ==
        "cannot jump: a probe records at most 4 values in jump mode, not 5");
  // orig_rax is not a register the code at the site can read
  CHECK(analyze_jump(function, 0, {15}).refusal ==
        "cannot jump: a fetch argument names a register a trampoline cannot record");
}
