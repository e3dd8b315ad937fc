// Jump plans: the bytes written over the site, the trampoline's frame
// (red zone skipped, flags kept without pushfq), the jump back, and the
// refusals that keep a jump from ever landing a thread mid-instruction.
#include <algorithm>

#include <catch2/catch.hpp>

#include <algorithm>

#include <fmt/format.h>

#include "common/ring_layout.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64::test;

namespace {

constexpr uint64_t kRing = 0x7f0000100000;

// What a site sees beyond its function: padding after it, parts placed
// elsewhere, the module's bytes (jump tables).
struct Beyond {
  Bytes after;
  std::vector<std::pair<uint64_t, Bytes>> parts;
  const ImageReader* image = nullptr;
};

// `before`: unclaimed bytes right before the function (a relay's padding).
SiteAnalysis analyze_jump(const Bytes& function, uint64_t offset = 0, std::vector<uint16_t> words = {},
                          const Beyond& beyond = {}, const Bytes& before = {}) {
  JumpContext jump{RuntimeAddr(kRing), ring::kDefaultCapacity, {{7, std::move(words), std::nullopt}}};
  SiteContext ctx{RuntimeAddr(kSite), function, RuntimeAddr(kSite + offset), RuntimeAddr(kNearSlot), ModeRequest::Jump};
  ctx.jump = &jump;
  std::vector<CodePart> parts;
  for (const auto& [at, code] : beyond.parts) parts.push_back({RuntimeAddr(at), code});
  ctx.after_function = beyond.after;
  ctx.before_function = before;
  ctx.other_parts = parts;
  ctx.image = beyond.image;
  return isa().analyze(ctx);
}

// The module's bytes: one buffer at one address.
class FakeImage final : public ImageReader {
 public:
  FakeImage(uint64_t at, Bytes bytes, std::vector<uint64_t> pointers = {}) : at_(at), bytes_(std::move(bytes)), pointers_(std::move(pointers)) {}
  bool read(RuntimeAddr addr, std::span<uint8_t> out) const override {
    if (addr.value < at_ || addr.value + out.size() > at_ + bytes_.size()) return false;
    std::copy_n(bytes_.begin() + static_cast<long>(addr.value - at_), out.size(), out.begin());
    return true;
  }
  std::optional<bool> pointer_into(RuntimeAddr lo, RuntimeAddr hi) const override {
    if (!position_independent) return std::nullopt;
    return std::any_of(pointers_.begin(), pointers_.end(), [&](uint64_t p) { return p > lo.value && p < hi.value; });
  }
  std::vector<CodePart> functions() const override {
    std::vector<CodePart> out;
    for (const auto& [at, code] : code_) out.push_back({RuntimeAddr(at), code});
    return out;
  }
  std::optional<bool> landing_pads_in(RuntimeAddr, RuntimeAddr) const override { return landing_pads; }
  bool functions_complete() const override { return has_symtab; }
  bool position_independent = true;
  bool has_symtab = true;
  std::optional<bool> landing_pads;               // unknown unless a test says
  std::vector<std::pair<uint64_t, Bytes>> code_;  // the module's functions

 private:
  uint64_t at_;
  Bytes bytes_;
  std::vector<uint64_t> pointers_;  // the values of its relocations
};

// The displaced instructions as the trampoline runs them: what follows the
// restoring epilogue (lea rsp, [rsp + 128]).
Bytes relocated_part(const SiteAnalysis& a) {
  const Bytes code = a.plan->slot_code();
  const Bytes epilogue_end{0x48, 0x8d, 0xa4, 0x24, 0x80, 0x00, 0x00, 0x00};
  auto it = std::search(code.begin(), code.end(), epilogue_end.begin(), epilogue_end.end());
  REQUIRE(it != code.end());
  return Bytes(it + static_cast<long>(epilogue_end.size()), code.end());
}

// Where the relocated part starts in the slot.
uint64_t relocated_at(const SiteAnalysis& a) { return kNearSlot + a.plan->slot_code().size() - relocated_part(a).size(); }

Bytes rel32_from(uint64_t end_of_insn, uint64_t target) {
  Bytes b;
  const int64_t v = static_cast<int64_t>(target - end_of_insn);
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
  return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
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
  // 55 / c3 / 31 c0 ...   a ret before 5 bytes are covered, more of the function after it
  CHECK(analyze_jump({0x55, 0xc3, 0x31, 0xc0, 0x90, 0xc3}).refusal ==
        "cannot jump: the ret at +0x1 leaves before the 5 bytes a jump overwrites end, and the bytes after it are "
        "more of the function, which an exception or a jump table may enter");
  // 48 89 e5 / 90         the function ends 1 byte later, and falls through off its end
  CHECK(analyze_jump({0x48, 0x89, 0xe5, 0x90}).refusal == "cannot jump: the function ends less than 5 bytes after the site");
  // e2 fe                 loop: rel8 only, not retargeted
  CHECK(analyze_jump({0xe2, 0xfe, 0x90, 0x90, 0x90, 0xc3}).refusal ==
        "cannot jump: the loop within the 5 bytes a jump overwrites cannot run from a trampoline");
}

TEST_CASE("x86_64 jump: a jmp over alignment nops at the site overwrites the nops", "[arch][x86_64]") {
  // As sqlite3_database_file_object, a rotated loop:
  //   +0x00  eb 0a                 jmp +0xc                                   <- site
  //   +0x02  66 0f 1f 44 00 00     nop word [rax + rax]    (alignment)
  //   +0x08  48 83 ef 01           sub rdi, 1                                 (loop head)
  //   +0x0c  80 7f ff 00           cmp byte [rdi - 1], 0
  //   +0x10  75 f6                 jne +0x8
  //   +0x12  c3                    ret
  const Bytes rotated{0xeb, 0x0a, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x48, 0x83,
                      0xef, 0x01, 0x80, 0x7f, 0xff, 0x00, 0x75, 0xf6, 0xc3};
  SiteAnalysis a = analyze_jump(rotated);
  INFO(a.refusal);
  REQUIRE(a.plan);
  // e9 rel32: the jmp and the first 3 of the nop's bytes, never run
  CHECK(a.plan->site_patch() == cat({{0xe9}, rel32_from(kSite + 5, kNearSlot)}));
  CHECK(hex_bytes(relocated_part(a)) == hex_bytes(cat({{0xe9}, rel32_from(relocated_at(a) + 5, 0x40100c)})));
  // A branch to the nop (75 f0  jne +0x2) would run the overwritten bytes.
  Bytes entered = rotated;
  entered[0x11] = 0xf0;
  CHECK(analyze_jump(entered).refusal == "cannot jump: the jne at +0x10 lands inside the bytes a jump would overwrite");
  // An int3 after a jmp (cc cc cc) is never run either.
  CHECK(analyze_jump({0xeb, 0x03, 0xcc, 0xcc, 0xcc, 0xc3}).plan != nullptr);
}

TEST_CASE("x86_64 jump: a call in the window pushes its own return address, then jumps", "[arch][x86_64]") {
  // site: e8 fb 01 00 00  call 0x401200
  //       c3              ret
  SiteAnalysis a = analyze_jump({0xe8, 0xfb, 0x01, 0x00, 0x00, 0xc3});
  INFO(a.refusal);
  REQUIRE(a.plan);
  // e9 rel32              jmp trampoline (5 bytes: nothing to fill)
  CHECK(a.plan->site_patch() == cat({{0xe9}, rel32_from(kSite + 5, kNearSlot)}));
  const uint64_t at = relocated_at(a);
  CHECK(hex_bytes(relocated_part(a)) ==
        hex_bytes(cat({{0x48, 0x8d, 0x64, 0x24, 0xf8},             // lea rsp, [rsp - 8]     (flags kept)
                       {0xc7, 0x04, 0x24, 0x05, 0x10, 0x40, 0x00},  // mov dword [rsp], 0x401005
                       {0xc7, 0x44, 0x24, 0x04, 0x00, 0x00, 0x00, 0x00},  // mov dword [rsp + 4], 0
                       {0xe9}, rel32_from(at + 20 + 5, 0x401200)})));     // jmp 0x401200 (no jump back)
  CHECK(a.plan->describe() ==
        "5 bytes at the site become a jmp to a trampoline that records the hit without stopping, runs 1 displaced "
        "instruction and leaves by the last one (the call pushes its own return address, 0x401005)");
  // After push rbp: 55 / e8 ..: the callee returns to 0x401006, the window's end.
  SiteAnalysis pushed = analyze_jump({0x55, 0xe8, 0xfa, 0x01, 0x00, 0x00, 0x5d, 0xc3});
  REQUIRE(pushed.plan);
  const Bytes pushed_code = relocated_part(pushed);
  CHECK(hex_bytes(Bytes(pushed_code.begin(), pushed_code.begin() + 13)) ==
        hex_bytes({0x55,                                             // push rbp
                   0x48, 0x8d, 0x64, 0x24, 0xf8,                     // lea rsp, [rsp - 8]
                   0xc7, 0x04, 0x24, 0x06, 0x10, 0x40, 0x00}));      // mov dword [rsp], 0x401006
}

TEST_CASE("x86_64 jump: a jcc in the window is retargeted with rel32, and the rest runs on", "[arch][x86_64]") {
  // site: 85 ff           test edi, edi
  //       74 06           je 0x40100a
  //       b8 01 00 00 00  mov eax, 1
  //       c3              ret
  //       31 c0 c3        xor eax, eax; ret      <- 0x40100a
  SiteAnalysis a = analyze_jump({0x85, 0xff, 0x74, 0x06, 0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3, 0x31, 0xc0, 0xc3});
  INFO(a.refusal);
  REQUIRE(a.plan);
  // e9 rel32 cc cc cc cc  jmp trampoline; 4 bytes never run
  CHECK(a.plan->site_patch() == cat({{0xe9}, rel32_from(kSite + 5, kNearSlot), {0xcc, 0xcc, 0xcc, 0xcc}}));
  const uint64_t at = relocated_at(a);
  CHECK(hex_bytes(relocated_part(a)) ==
        hex_bytes(cat({{0x85, 0xff},                                    // test edi, edi
                       {0x0f, 0x84}, rel32_from(at + 8, 0x40100a),      // je 0x40100a (rel32 now)
                       {0xb8, 0x01, 0x00, 0x00, 0x00},                  // mov eax, 1
                       {0xe9}, rel32_from(at + 18, 0x401009)})));       // jmp 0x401009 (back)
  CHECK(a.plan->describe() ==
        "9 bytes at the site become a jmp to a trampoline that records the hit without stopping, runs 3 displaced "
        "instructions and jumps back to 0x401009 (branches retargeted with rel32)");
  // jne rel32 the same way: 0f 85 rel32 keeps its form, with a new displacement.
  SiteAnalysis rel32 = analyze_jump({0x0f, 0x85, 0xf9, 0x00, 0x00, 0x00, 0x90, 0xc3});
  REQUIRE(rel32.plan);
  CHECK(hex_bytes(relocated_part(rel32)) ==
        hex_bytes(cat({{0x0f, 0x85}, rel32_from(relocated_at(rel32) + 6, 0x4010ff), {0xe9},
                       rel32_from(relocated_at(rel32) + 11, 0x401006)})));
}

TEST_CASE("x86_64 jump: a ret or jmp that ends the function early overwrites padding after it", "[arch][x86_64]") {
  // site: 31 c0           xor eax, eax
  //       c3              ret          (the function's end)
  //       66 0f 1f 44 00 00  nop word [rax + rax]   (alignment padding)
  Beyond nops{{0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00}, {}, nullptr};
  SiteAnalysis a = analyze_jump({0x31, 0xc0, 0xc3}, 0, {}, nops);
  INFO(a.refusal);
  REQUIRE(a.plan);
  // e9 rel32: over the function's 3 bytes and 2 of the padding nop
  CHECK(a.plan->site_patch() == cat({{0xe9}, rel32_from(kSite + 5, kNearSlot)}));
  CHECK(hex_bytes(relocated_part(a)) == "31 c0 c3");  // xor eax, eax; ret (no jump back)
  CHECK(a.plan->describe() ==
        "5 bytes at the site (2 of them padding after the function) become a jmp to a trampoline that records the hit "
        "without stopping, runs 2 displaced instructions and leaves by the last one");
  // site: 89 f8  mov eax, edi ; eb ea  jmp 0x400fee (a tail jump) ; then int3 padding
  SiteAnalysis tail = analyze_jump({0x89, 0xf8, 0xeb, 0xea}, 0, {}, {{0xcc, 0xcc, 0xcc}, {}, nullptr});
  INFO(tail.refusal);
  REQUIRE(tail.plan);
  CHECK(hex_bytes(relocated_part(tail)) ==
        hex_bytes(cat({{0x89, 0xf8}, {0xe9}, rel32_from(relocated_at(tail) + 7, 0x400fee)})));
  // c3 alone, then 55 (another function's push rbp, or bytes nothing vouches for)
  CHECK(analyze_jump({0xc3}, 0, {}, {{0x55, 0x48, 0x89, 0xe5}, {}, nullptr}).refusal ==
        "cannot jump: the function ends 1 bytes after the site, and the 4 bytes after it are not padding that nothing "
        "else claims");
  // Too little padding known (the next function starts 2 bytes later).
  CHECK(analyze_jump({0x31, 0xc0, 0xc3}, 0, {}, {{0xcc}, {}, nullptr}).refusal ==
        "cannot jump: the function ends 3 bytes after the site, and the 2 bytes after it are not padding that nothing "
        "else claims");
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
  CHECK(analyze_jump(indirect).refusal ==
        "cannot jump: the function has an indirect jump at +0x6 whose targets are unknown (the module's bytes are not "
        "known)");
}

TEST_CASE("x86_64 jump: a branch back from the function's .cold part is checked like its own", "[arch][x86_64]") {
  // site: 48 89 e5  mov rbp, rsp ; 48 89 c3  mov rbx, rax ; c3
  const Bytes function{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0xc3};
  // FUNC.cold at 0x405000: e9 fe bf ff ff  jmp 0x401003 (inside the window)
  Beyond into{{}, {{0x405000, {0xe9, 0xfe, 0xbf, 0xff, 0xff}}}, nullptr};
  CHECK(analyze_jump(function, 0, {}, into).refusal ==
        "cannot jump: the jmp at 0x405000 (in a part of the function placed elsewhere) lands inside the bytes a jump "
        "would overwrite");
  // e9 01 c0 ff ff  jmp 0x401006 (the window's end): fine
  Beyond after{{}, {{0x405000, {0xe9, 0x01, 0xc0, 0xff, 0xff}}}, nullptr};
  CHECK(analyze_jump(function, 0, {}, after).plan != nullptr);
}

namespace {
// A switch as GCC emits it, with the site at its start:
//   +0x00  48 89 f8              mov rax, rdi
//   +0x03  83 f8 03              cmp eax, 3
//   +0x06  77 10                 ja +0x18          (default)
//   +0x08  48 8d 15 f1 00 00 00  lea rdx, [rip + 0xf1]   (the table, at +0x100)
//   +0x0f  48 63 04 82           movsxd rax, dword [rdx + rax*4]
//   +0x13  48 01 d0              add rax, rdx
//   +0x16  ff e0                 jmp rax
//   +0x18  c3 c3 c3 c3           ret (the cases)
const Bytes kSwitch{0x48, 0x89, 0xf8, 0x83, 0xf8, 0x03, 0x77, 0x10, 0x48, 0x8d, 0x15, 0xf1, 0x00, 0x00,
                    0x00, 0x48, 0x63, 0x04, 0x82, 0x48, 0x01, 0xd0, 0xff, 0xe0, 0xc3, 0xc3, 0xc3, 0xc3};

// The 4 entries, each relative to the table at kSite + 0x100.
FakeImage table(std::initializer_list<uint64_t> case_offsets) {
  Bytes t;
  for (uint64_t off : case_offsets)
    for (uint8_t b : rel32_from(kSite + 0x100, kSite + off)) t.push_back(b);
  return FakeImage(kSite + 0x100, t);
}
}  // namespace

TEST_CASE("x86_64 jump: a switch's jump table is read, bounded by its cmp and ja", "[arch][x86_64]") {
  FakeImage good = table({0x18, 0x19, 0x1a, 0x1b});
  SiteAnalysis a = analyze_jump(kSwitch, 0, {}, {{}, {}, &good});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  // Case 2 goes to +0x4, inside the 6 bytes (mov, cmp) the jump overwrites.
  FakeImage bad = table({0x18, 0x19, 0x04, 0x1b});
  CHECK(analyze_jump(kSwitch, 0, {}, {{}, {}, &bad}).refusal ==
        "cannot jump: case 2 of the switch at +0x16 lands inside the bytes a jump would overwrite");
  // A fifth entry past the bound is not a case: never read, never counted.
  FakeImage longer = table({0x18, 0x19, 0x1a, 0x1b, 0x04});
  CHECK(analyze_jump(kSwitch, 0, {}, {{}, {}, &longer}).plan != nullptr);
  // Without the module's bytes the table cannot be read.
  CHECK(analyze_jump(kSwitch).refusal ==
        "cannot jump: the function has an indirect jump at +0x16 whose jump table cannot be read (the module's bytes "
        "are not known)");
  // No bound: 77 10 (ja) replaced by 90 90 (nops).
  Bytes unbounded = kSwitch;
  unbounded[6] = unbounded[7] = 0x90;
  CHECK(analyze_jump(unbounded, 0, {}, {{}, {}, &good}).refusal ==
        "cannot jump: the function has an indirect jump at +0x16 whose jump table's bound or base was not found right "
        "before it (a cmp and ja, and a lea of the table)");
  // A branch past the bound check into the idiom: c3 at +0x18 becomes eb f5 (jmp +0xf, the movsxd).
  Bytes bypass = kSwitch;
  bypass[0x18] = 0xeb;
  bypass[0x19] = 0xf5;
  CHECK(analyze_jump(bypass, 0, {}, {{}, {}, &good}).refusal ==
        "cannot jump: the function has an indirect jump at +0x16 whose jump table's bound check can be bypassed (a "
        "branch lands at +0xf)");
}

TEST_CASE("x86_64 jump: a second bound check on another path into the switch", "[arch][x86_64]") {
  // kSwitch with a second way in, as iconv's: +0x18 83 f8 03  cmp eax, 3 ; +0x1b 76 eb  jbe +0x8
  // (right after the first check's ja, before the lea); the cases at +0x1d..+0x20.
  Bytes twice(kSwitch.begin(), kSwitch.begin() + 0x18);
  for (uint8_t b : {0x83, 0xf8, 0x03, 0x76, 0xeb, 0xc3, 0xc3, 0xc3, 0xc3}) twice.push_back(b);
  FakeImage cases = table({0x1d, 0x1e, 0x1f, 0x20});
  SiteAnalysis a = analyze_jump(twice, 0, {}, {{}, {}, &cases});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  const std::string bypassed =
      "cannot jump: the function has an indirect jump at +0x16 whose jump table's bound check can be bypassed (a "
      "branch lands at +0x8)";
  // A larger bound on the second path (cmp eax, 4) lets index 4 past: one entry more than read.
  Bytes looser = twice;
  looser[0x1a] = 0x04;
  CHECK(analyze_jump(looser, 0, {}, {{}, {}, &cases}).refusal == bypassed);
  // Another register compared (83 f9 03  cmp ecx, 3).
  Bytes other = twice;
  other[0x19] = 0xf9;
  CHECK(analyze_jump(other, 0, {}, {{}, {}, &cases}).refusal == bypassed);
  // Taken when above (73 eb  jae), not when below.
  Bytes above = twice;
  above[0x1b] = 0x73;
  CHECK(analyze_jump(above, 0, {}, {{}, {}, &cases}).refusal == bypassed);
  // Landing past the lea (76 f2  jbe +0xf, the movsxd): rdx would not be loaded on that path.
  Bytes past = twice;
  past[0x1c] = 0xf2;
  CHECK(analyze_jump(past, 0, {}, {{}, {}, &cases}).refusal ==
        "cannot jump: the function has an indirect jump at +0x16 whose jump table's bound check can be bypassed (a "
        "branch lands at +0xf)");
  // A .cold part whose first instruction jumps there (e9 03 c0 ff ff  jmp site + 8): no cmp before it, even
  // with the second check still in place.
  Beyond cold{{}, {{0x405000, {0xe9, 0x03, 0xc0, 0xff, 0xff}}}, &cases};
  CHECK(analyze_jump(twice, 0, {}, cold).refusal == bypassed);
}

TEST_CASE("x86_64 jump: a switch idiom in a shape its proof does not cover is no switch", "[arch][x86_64]") {
  auto image = [](std::vector<std::pair<uint64_t, uint64_t>> at_and_case) {
    Bytes t;
    for (const auto& [at, case_offset] : at_and_case)
      for (uint8_t b : rel32_from(kSite + 0x100, kSite + case_offset)) t.push_back(b);
    return FakeImage(kSite + 0x100, t);
  };
  // The entries read 0x10 past the base they are added to:
  //   +0x00  48 89 f8              mov rax, rdi                               <- site
  //   +0x03  83 f8 03              cmp eax, 3
  //   +0x06  77 11                 ja +0x19
  //   +0x08  48 8d 15 f1 00 00 00  lea rdx, [rip + 0xf1]   (the table, at +0x100)
  //   +0x0f  48 63 44 82 10        movsxd rax, dword [rdx + rax*4 + 0x10]
  //   +0x14  48 01 d0              add rax, rdx
  //   +0x17  ff e0                 jmp rax
  //   +0x19  c3 c3 c3 c3
  // At the base, four harmless entries; at base + 0x10, the four it reads, the third inside the window.
  const Bytes displaced{0x48, 0x89, 0xf8, 0x83, 0xf8, 0x03, 0x77, 0x11, 0x48, 0x8d, 0x15, 0xf1, 0x00, 0x00, 0x00,
                        0x48, 0x63, 0x44, 0x82, 0x10, 0x48, 0x01, 0xd0, 0xff, 0xe0, 0xc3, 0xc3, 0xc3, 0xc3};
  FakeImage two_tables = image({{0, 0x19}, {0, 0x1a}, {0, 0x1b}, {0, 0x1c}, {0, 0x19}, {0, 0x1a}, {0, 0x04}, {0, 0x1c}});
  CHECK(analyze_jump(displaced, 0, {}, {{}, {}, &two_tables}).refusal ==
        "cannot jump: an indirect jump at +0x17 computes its target from a table uptrace cannot bound (loaded at "
        "+0xf)");
  // The index bounded (by the byte it is loaded from), then overwritten as the table's base:
  //   +0x00  48 89 f8              mov rax, rdi                               <- site
  //   +0x03  0f b6 17              movzx edx, byte [rdi]
  //   +0x06  48 8d 15 f3 00 00 00  lea rdx, [rip + 0xf3]   (the table, at +0x100)
  //   +0x0d  48 63 04 92           movsxd rax, dword [rdx + rdx*4]
  //   +0x11  48 01 d0              add rax, rdx
  //   +0x14  ff e0                 jmp rax
  //   +0x16  c3
  const Bytes index_is_base{0x48, 0x89, 0xf8, 0x0f, 0xb6, 0x17, 0x48, 0x8d, 0x15, 0xf3, 0x00, 0x00,
                            0x00, 0x48, 0x63, 0x04, 0x92, 0x48, 0x01, 0xd0, 0xff, 0xe0, 0xc3};
  std::vector<std::pair<uint64_t, uint64_t>> harmless(256, {0, 0x16});
  FakeImage byte_table = image(harmless);
  CHECK(analyze_jump(index_is_base, 0, {}, {{}, {}, &byte_table}).refusal ==
        "cannot jump: an indirect jump at +0x14 computes its target from a table uptrace cannot bound (loaded at "
        "+0xd)");
  // Between the cmp and the ja, an instruction Capstone 4 cannot decode (so not listed) that sets the
  // flags the ja reads: c4 e1 f9 98 c9  kortestd k1, k1.
  //   +0x00  48 89 f8 ; +0x03 83 f8 03  cmp eax, 3 ; +0x06 kortestd ; +0x0b 77 10  ja +0x1d
  //   +0x0d  48 8d 15 ec 00 00 00  lea rdx, [rip + 0xec]   (the table, at +0x100)
  //   +0x14  48 63 04 82 ; +0x18 48 01 d0 ; +0x1b ff e0 ; +0x1d c3 c3 c3 c3
  const Bytes flags_reset{0x48, 0x89, 0xf8, 0x83, 0xf8, 0x03, 0xc4, 0xe1, 0xf9, 0x98, 0xc9, 0x77, 0x10,
                          0x48, 0x8d, 0x15, 0xec, 0x00, 0x00, 0x00, 0x48, 0x63, 0x04, 0x82, 0x48, 0x01,
                          0xd0, 0xff, 0xe0, 0xc3, 0xc3, 0xc3, 0xc3};
  FakeImage four = image({{0, 0x1d}, {0, 0x1e}, {0, 0x1f}, {0, 0x20}});
  CHECK(analyze_jump(flags_reset, 0, {}, {{}, {}, &four}).refusal ==
        "cannot jump: the function has an indirect jump at +0x1b whose jump table's bound or base was not found right "
        "before it (a cmp and ja, and a lea of the table)");
}

namespace {
// The module's bytes at kSite + 0x100: one rel32 entry per case offset.
FakeImage entries_at_0x100(std::initializer_list<uint64_t> case_offsets) {
  Bytes t;
  for (uint64_t off : case_offsets)
    for (uint8_t b : rel32_from(kSite + 0x100, kSite + off)) t.push_back(b);
  return FakeImage(kSite + 0x100, t);
}
}  // namespace

TEST_CASE("x86_64 jump: a table of one entry at a fixed place is its one target", "[arch][x86_64]") {
  // As glibc's __res_context_query:
  //   +0x00  48 89 f8              mov rax, rdi                               <- site
  //   +0x03  48 89 c3              mov rbx, rax
  //   +0x06  48 63 05 f3 00 00 00  movsxd rax, dword [rip + 0xf3]   (+0x100)
  //   +0x0d  48 8d 35 ec 00 00 00  lea rsi, [rip + 0xec]            (+0x100)
  //   +0x14  48 01 f0              add rax, rsi
  //   +0x17  ff e0                 jmp rax
  //   +0x19  c3
  const Bytes fixed{0x48, 0x89, 0xf8, 0x48, 0x89, 0xc3, 0x48, 0x63, 0x05, 0xf3, 0x00, 0x00, 0x00, 0x48,
                    0x8d, 0x35, 0xec, 0x00, 0x00, 0x00, 0x48, 0x01, 0xf0, 0xff, 0xe0, 0xc3};
  FakeImage good = entries_at_0x100({0x19});
  SiteAnalysis a = analyze_jump(fixed, 0, {}, {{}, {}, &good});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  FakeImage bad = entries_at_0x100({0x04});
  CHECK(analyze_jump(fixed, 0, {}, {{}, {}, &bad}).refusal ==
        "cannot jump: case 0 of the switch at +0x17 lands inside the bytes a jump would overwrite");
  // The entry read from elsewhere than the base it is added to (movsxd rax, dword [rip + 0xf7], +0x104).
  Bytes elsewhere = fixed;
  elsewhere[9] = 0xf7;
  CHECK(analyze_jump(elsewhere, 0, {}, {{}, {}, &good}).refusal ==
        "cannot jump: an indirect jump at +0x17 computes its target from a table uptrace cannot bound (loaded at "
        "+0x6)");
}

TEST_CASE("x86_64 jump: a switch bounded by a compare of the memory its index is loaded from", "[arch][x86_64]") {
  // As glibc's dlinfo_doit and __spawni_child:
  //   +0x00  48 89 fb              mov rbx, rdi                               <- site
  //   +0x03  48 89 c1              mov rcx, rax
  //   +0x06  83 7b 08 03           cmp dword [rbx + 8], 3
  //   +0x0a  49 89 ce              mov r14, rcx
  //   +0x0d  77 13                 ja +0x22
  //   +0x0f  8b 43 08              mov eax, dword [rbx + 8]
  //   +0x12  48 8d 15 e7 00 00 00  lea rdx, [rip + 0xe7]   (the table, at +0x100)
  //   +0x19  48 63 04 82           movsxd rax, dword [rdx + rax*4]
  //   +0x1d  48 01 d0              add rax, rdx
  //   +0x20  ff e0                 jmp rax
  //   +0x22  c3 c3 c3 c3
  const Bytes memory_bound{0x48, 0x89, 0xfb, 0x48, 0x89, 0xc1, 0x83, 0x7b, 0x08, 0x03, 0x49, 0x89,
                           0xce, 0x77, 0x13, 0x8b, 0x43, 0x08, 0x48, 0x8d, 0x15, 0xe7, 0x00, 0x00,
                           0x00, 0x48, 0x63, 0x04, 0x82, 0x48, 0x01, 0xd0, 0xff, 0xe0, 0xc3, 0xc3,
                           0xc3, 0xc3};
  FakeImage good = entries_at_0x100({0x22, 0x23, 0x24, 0x25});
  SiteAnalysis a = analyze_jump(memory_bound, 0, {}, {{}, {}, &good});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  FakeImage bad = entries_at_0x100({0x22, 0x23, 0x24, 0x04});
  CHECK(analyze_jump(memory_bound, 0, {}, {{}, {}, &bad}).refusal ==
        "cannot jump: case 3 of the switch at +0x20 lands inside the bytes a jump would overwrite");
  const std::string not_found =
      "cannot jump: the function has an indirect jump at +0x20 whose jump table's bound or base was not found right "
      "before it (a cmp and ja, and a lea of the table)";
  // The index loaded from other memory (mov eax, dword [rbx + 0xc]).
  Bytes other = memory_bound;
  other[0x11] = 0x0c;
  CHECK(analyze_jump(other, 0, {}, {{}, {}, &good}).refusal == not_found);
  // The memory's address changed between the cmp and the load (48 89 cb  mov rbx, rcx for mov r14, rcx).
  Bytes moved = memory_bound;
  moved[0x0a] = 0x48;
  moved[0x0c] = 0xcb;
  CHECK(analyze_jump(moved, 0, {}, {{}, {}, &good}).refusal == not_found);
  // A byte compared, a dword loaded (80 7b 08 03  cmp byte [rbx + 8], 3).
  Bytes narrower = memory_bound;
  narrower[0x06] = 0x80;
  CHECK(analyze_jump(narrower, 0, {}, {{}, {}, &good}).refusal == not_found);
}

TEST_CASE("x86_64 jump: a compare between a switch's add and its jmp", "[arch][x86_64]") {
  // As glibc's makecontext (its cases read the flags):
  //   +0x00  48 89 f8              mov rax, rdi                               <- site
  //   +0x03  83 f8 03              cmp eax, 3
  //   +0x06  77 13                 ja +0x1b
  //   +0x08  48 8d 15 f1 00 00 00  lea rdx, [rip + 0xf1]   (the table, at +0x100)
  //   +0x0f  48 63 04 82           movsxd rax, dword [rdx + rax*4]
  //   +0x13  48 01 d0              add rax, rdx
  //   +0x16  83 fe 2f              cmp esi, 0x2f
  //   +0x19  ff e0                 jmp rax
  //   +0x1b  c3 c3 c3 c3
  const Bytes compared{0x48, 0x89, 0xf8, 0x83, 0xf8, 0x03, 0x77, 0x13, 0x48, 0x8d, 0x15, 0xf1, 0x00, 0x00, 0x00,
                       0x48, 0x63, 0x04, 0x82, 0x48, 0x01, 0xd0, 0x83, 0xfe, 0x2f, 0xff, 0xe0, 0xc3, 0xc3, 0xc3, 0xc3};
  FakeImage good = entries_at_0x100({0x1b, 0x1c, 0x1d, 0x1e});
  SiteAnalysis a = analyze_jump(compared, 0, {}, {{}, {}, &good});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  // An add there (83 c0 2f  add eax, 0x2f) changes the target: no switch's shape.
  Bytes added = compared;
  added[0x17] = 0xc0;
  CHECK(analyze_jump(added, 0, {}, {{}, {}, &good}).refusal ==
        "cannot jump: an indirect jump at +0x19 computes its target from a table uptrace cannot bound (loaded at "
        "+0xf)");
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

TEST_CASE("x86_64 jump: another indirect jump is accepted when no stored or taken code address is inside", "[arch][x86_64]") {
  // site: 48 89 e5  mov rbp, rsp ; 48 89 c3  mov rbx, rax ; 5d  pop rbp ; ff e0  jmp rax   (a tail call)
  const Bytes tail{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x5d, 0xff, 0xe0};
  // The module's relocations put code addresses at the site and after the window, none inside.
  FakeImage clean(kSite, {}, {kSite, kSite + 6, kSite + 0x100});
  SiteAnalysis a = analyze_jump(tail, 0, {}, {{}, {}, &clean});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  // A relocation whose value is site + 3 (a label stored as a pointer: a computed goto's table)
  FakeImage stored(kSite, {}, {kSite + 3});
  CHECK(analyze_jump(tail, 0, {}, {{}, {}, &stored}).refusal ==
        "cannot jump: the function has an indirect jump at +0x7 whose targets are unknown: the module stores an "
        "address inside the bytes a jump would overwrite");
  // A module that is not position-independent stores addresses with no relocation.
  FakeImage fixed(kSite, {});
  fixed.position_independent = false;
  CHECK(analyze_jump(tail, 0, {}, {{}, {}, &fixed}).refusal ==
        "cannot jump: the function has an indirect jump at +0x7 whose targets are unknown (the module is not "
        "position-independent, so the code addresses it stores cannot be told apart)");
  // 48 8d 05 f5 ff ff ff  lea rax, [rip - 0xb]: the address of site + 2, taken in the function
  const Bytes taken{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x48, 0x8d, 0x05, 0xf5, 0xff, 0xff, 0xff, 0xff, 0xe0};
  CHECK(analyze_jump(taken, 0, {}, {{}, {}, &clean}).refusal ==
        "cannot jump: the lea at +0x6 takes the address of a place inside the bytes a jump would overwrite");
  // 48 63 04 82  movsxd rax, dword [rdx + rax*4] ; 48 01 d0  add rax, rdx: a table entry added to its
  // base with no bound in sight, then jumped to later
  const Bytes sum{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x48, 0x63, 0x04, 0x82, 0x48, 0x01, 0xd0, 0x90, 0xff, 0xe0};
  CHECK(analyze_jump(sum, 0, {}, {{}, {}, &clean}).refusal ==
        "cannot jump: an indirect jump at +0xe computes its target from a table uptrace cannot bound (loaded at "
        "+0x6)");
}

TEST_CASE("x86_64 jump: AVX-512 and mask instructions Capstone 4 cannot decode are stepped over", "[arch][x86_64]") {
  // From libc's *_evex string functions, whose checks stopped there before:
  // the site is 48 89 e5 / 48 89 c3 (6 bytes), then one instruction Capstone 4
  // cannot decode, then 75 xx (jne) back into the window, which must be seen.
  const std::vector<Bytes> undecodable{
      {0x62, 0xf3, 0x7d, 0x20, 0x3f, 0x07, 0x00},  // vpcmpeqb k0, ymm16, [rdi], 0  (EVEX 0f3a: imm8)
      {0x62, 0xf3, 0x7d, 0x20, 0x3f, 0x44, 0x17, 0x01, 0x00},  // vpcmpeqb k0, ymm16, [rdi+rdx+0x20], 0 (SIB, disp8)
      {0x62, 0xb2, 0x75, 0x20, 0x26, 0xd1},        // vptestmb k2, ymm17, ymm17  (EVEX 0f38)
      {0xc5, 0xfb, 0x93, 0xc0},                    // kmovd eax, k0  (VEX2)
      {0xc4, 0xe1, 0xfb, 0x92, 0xcb},              // kmovq k1, rbx  (VEX3)
      {0x0f, 0x01, 0xee},                          // rdpkru
  };
  for (const Bytes& insn : undecodable) {
    INFO(hex_bytes(insn));
    Bytes function{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3};
    function.insert(function.end(), insn.begin(), insn.end());
    Bytes ok = function;
    ok.push_back(0xc3);  // ret
    CHECK(analyze_jump(ok).plan != nullptr);
    // 75 xx: jne site + 3 (from its end at function.size() + 2)
    Bytes back = function;
    back.push_back(0x75);
    back.push_back(static_cast<uint8_t>(3 - static_cast<int>(function.size() + 2)));
    back.push_back(0xc3);
    CHECK(analyze_jump(back).refusal == fmt::format("cannot jump: the jne at +{:#x} lands inside the bytes a jump would "
                                                    "overwrite",
                                                    function.size()));
  }
  // Anything else Capstone cannot decode still stops the check: 0f 3c is undefined.
  CHECK(analyze_jump({0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x0f, 0x3c, 0xc3}).refusal ==
        "cannot jump: the function cannot be decoded to its end (at +0x6)");
}

TEST_CASE("x86_64 jump: a branch from another function of the module into the window refuses", "[arch][x86_64]") {
  // As glibc's __mempcpy_avx_unaligned_erms ends in a jmp to the second
  // instruction of __memmove_avx_unaligned_erms:
  //   site:     48 89 f8  mov rax, rdi ; 48 89 c3  mov rbx, rax ; c3
  //   0x400f00: 48 89 f8  mov rax, rdi ; 48 01 d0  add rax, rdx ; e9 f8 00 00 00  jmp 0x401003
  const Bytes function{0x48, 0x89, 0xf8, 0x48, 0x89, 0xc3, 0xc3};
  FakeImage module(kSite, {});
  module.code_ = {{0x400f00, {0x48, 0x89, 0xf8, 0x48, 0x01, 0xd0, 0xe9, 0xf8, 0x00, 0x00, 0x00}}, {kSite, function}};
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &module}).refusal ==
        "cannot jump: a branch at 0x400f06, elsewhere in the module, lands inside the bytes a jump would overwrite");
  // The same jmp to the site itself (e9 f5 00 00 00): the jmp written there is whole.
  FakeImage to_site(kSite, {});
  to_site.code_ = {{0x400f00, {0x48, 0x89, 0xf8, 0x48, 0x01, 0xd0, 0xe9, 0xf5, 0x00, 0x00, 0x00}}, {kSite, function}};
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &to_site}).plan != nullptr);
}

TEST_CASE("x86_64 jump: with padding before the function, a jmp rel8 over the first instruction goes to a relay there",
          "[arch][x86_64]") {
  // The same branch into +3, and 8 bytes of int3 before the function:
  //   0x400ff8: cc cc cc                                    (left as they are)
  //   0x400ffb: e9 00 10 00 00  jmp 0x402000 (the trampoline)   <- the relay
  //   0x401000: eb f9           jmp 0x400ffb                    <- site (mov rax, rdi's first 2 bytes)
  //   0x401002: f8              (mov rax, rdi's last byte, never run)
  //   0x401003: 48 89 c3        mov rbx, rax                    <- 0x400f06's jmp lands here, unchanged
  const Bytes function{0x48, 0x89, 0xf8, 0x48, 0x89, 0xc3, 0xc3};
  const Bytes int3s(8, 0xcc);
  FakeImage module(kSite, {});
  module.code_ = {{0x400f00, {0x48, 0x89, 0xf8, 0x48, 0x01, 0xd0, 0xe9, 0xf8, 0x00, 0x00, 0x00}}, {kSite, function}};
  SiteAnalysis a = analyze_jump(function, 0, {}, {{}, {}, &module}, int3s);
  INFO(a.refusal);
  REQUIRE(a.plan);
  CHECK(a.plan->mode() == ExecMode::Jump);
  CHECK(a.plan->site_patch() == Bytes{0xeb, 0xf9});
  auto relay = a.plan->relay();
  REQUIRE(relay);
  CHECK(relay->at.value == kSite - 5);
  CHECK(relay->bytes == cat({{0xe9}, rel32_from(kSite, kNearSlot)}));
  // Only mov rax, rdi is displaced: 48 89 f8, then e9 jmp 0x401003.
  CHECK(relocated_part(a) == cat({{0x48, 0x89, 0xf8, 0xe9}, rel32_from(relocated_at(a) + 8, kSite + 3)}));
  // A thread at the relay has only taken the jmp rel8: it goes back to the site.
  CHECK(a.plan->original_pc(kSite - 5) == kSite);
  CHECK(a.plan->describe().find("the site's first 2 bytes become a jmp rel8 to a jmp at 0x400ffb in the padding before "
                                "the function") == 0);
  CHECK(a.plan->describe().find("(not 5 bytes at the site: a branch at 0x400f06, elsewhere in the module, lands inside "
                                "the bytes a jump would overwrite)") != std::string::npos);

  // Nop padding: the relay starts where a nop does (0f 1f 80 00 00 00 00, 66 90), so code
  // that ran into the padding reaches it whole.
  SiteAnalysis nops = analyze_jump(function, 0, {}, {{}, {}, &module}, {0x0f, 0x1f, 0x80, 0, 0, 0, 0, 0x66, 0x90});
  REQUIRE(nops.plan);
  CHECK(nops.plan->relay()->at.value == kSite - 9);
  CHECK(nops.plan->site_patch() == Bytes{0xeb, 0xf5});

  const std::string refused =
      "cannot jump: a branch at 0x400f06, elsewhere in the module, lands inside the bytes a jump would overwrite";
  // No room: 4 bytes.
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &module}, Bytes(4, 0xcc)).refusal ==
        refused + "; and no jmp rel8 to a relay: the padding before the function has no room for a 5-byte jmp");
  // Not padding (48 89 c3 mov rbx, rax, 3 times), or a nop running into the function.
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &module}, {0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3, 0x48, 0x89, 0xc3})
            .refusal == refused + "; and no jmp rel8 to a relay: the bytes right before the function are not all nops or int3");
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &module}, {0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0x0f, 0x1f, 0x80, 0, 0})
            .refusal == refused + "; and no jmp rel8 to a relay: the bytes right before the function are not all nops or int3");
  // A branch into the padding after the relay's start (jmp 0x400ffd: e9 f2 00 00 00 from 0x400f06).
  FakeImage into_padding(kSite, {});
  into_padding.code_ = {{0x400f00, {0x48, 0x89, 0xf8, 0x48, 0x01, 0xd0, 0xe9, 0xf8, 0x00, 0x00, 0x00}},
                        {0x400f20, {0xe9, 0xd8, 0x00, 0x00, 0x00}},
                        {kSite, function}};
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &into_padding}, int3s).refusal ==
        refused + "; and no jmp rel8 to a relay: a branch at 0x400f20 lands in the padding before the function");
  // ... but one to the relay's start is a way to the site, as it was.
  FakeImage to_relay(kSite, {});
  to_relay.code_ = {{0x400f00, {0x48, 0x89, 0xf8, 0x48, 0x01, 0xd0, 0xe9, 0xf8, 0x00, 0x00, 0x00}},
                    {0x400f20, {0xe9, 0xd6, 0x00, 0x00, 0x00}},
                    {kSite, function}};
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &to_relay}, int3s).plan != nullptr);
  // An address stored in the module that points into it (a relocation's value).
  FakeImage stored(kSite, {}, {kSite - 2});
  stored.code_ = module.code_;
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &stored}, int3s).refusal ==
        refused + "; and no jmp rel8 to a relay: an address stored in the module may point into the padding");
  // Without .symtab a local function's branch into the padding would not be seen.
  FakeImage no_symtab(kSite, {});
  no_symtab.code_ = module.code_;
  no_symtab.has_symtab = false;
  CHECK(analyze_jump(function, 0, {}, {{}, {}, &no_symtab}, int3s).refusal ==
        refused + "; and no jmp rel8 to a relay: not every branch in the module is known (no .symtab)");
  // A 1-byte first instruction (53 push rbx) leaves no room for the jmp rel8: the window's reason stands.
  const Bytes push_first{0x53, 0x48, 0x89, 0xc3, 0x5b, 0xc3};
  FakeImage push_module(kSite, {});
  push_module.code_ = {{0x400f00, {0xe9, 0xfc, 0x00, 0x00, 0x00}}, {kSite, push_first}};  // jmp 0x401001
  CHECK(analyze_jump(push_first, 0, {}, {{}, {}, &push_module}, int3s).refusal ==
        "cannot jump: a branch at 0x400f00, elsewhere in the module, lands inside the bytes a jump would overwrite");
  // Only at a function's start: the padding is the function before's.
  const Bytes two{0x90, 0x48, 0x89, 0xf8, 0x48, 0x89, 0xc3, 0xc3};
  FakeImage inner(kSite, {});
  inner.code_ = {{0x400f00, {0xe9, 0xfe, 0x00, 0x00, 0x00}}, {kSite, two}};  // jmp 0x401003
  CHECK(analyze_jump(two, 1, {}, {{}, {}, &inner}, int3s).refusal ==
        "cannot jump: a branch at 0x400f00, elsewhere in the module, lands inside the bytes a jump would overwrite");
}

TEST_CASE("x86_64 jump: a switch whose table base was loaded once, earlier in the function", "[arch][x86_64]") {
  //   +0x00  48 8d 15 f9 00 00 00  lea rdx, [rip + 0xf9]   (the table, at +0x100)   <- site
  //   +0x07  53                    push rbx
  //   +0x08  48 89 f8              mov rax, rdi
  //   +0x0b  83 f8 03              cmp eax, 3
  //   +0x0e  77 0b                 ja +0x1b
  //   +0x10  48 63 04 82           movsxd rax, dword [rdx + rax*4]
  //   +0x14  48 01 d0              add rax, rdx
  //   +0x17  ff e0                 jmp rax
  //   +0x19  5b c3 5b c3           pop rbx; ret (the cases, and the default)
  const Bytes hoisted{0x48, 0x8d, 0x15, 0xf9, 0x00, 0x00, 0x00, 0x53, 0x48, 0x89, 0xf8, 0x83, 0xf8, 0x03, 0x77,
                      0x0b, 0x48, 0x63, 0x04, 0x82, 0x48, 0x01, 0xd0, 0xff, 0xe0, 0x5b, 0xc3, 0x5b, 0xc3};
  FakeImage good = table({0x19, 0x19, 0x19, 0x1b});
  SiteAnalysis a = analyze_jump(hoisted, 0, {}, {{}, {}, &good});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  FakeImage bad = table({0x19, 0x03, 0x19, 0x1b});
  CHECK(analyze_jump(hoisted, 0, {}, {{}, {}, &bad}).refusal ==
        "cannot jump: case 1 of the switch at +0x17 lands inside the bytes a jump would overwrite");
  // Another write to rdx (31 d2  xor edx, edx, in place of a case's pop rbx; ret) leaves the base unknown.
  Bytes other = hoisted;
  other[0x19] = 0x31;
  other[0x1a] = 0xd2;
  // Then only a walk over the function's paths can show rdx holds the table, which the unwinder's
  // unseen way in (a landing pad) would defeat; here nothing says whether there is one.
  CHECK(analyze_jump(other, 0, {}, {{}, {}, &good}).refusal ==
        "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before "
        "it, and whether the function has landing pads is not known");
}

namespace {
// A switch in a loop whose table base GCC loads once, before the loop,
// while a case writes the register on its way out (so the base is not
// the function's only value of it):
//   +0x00  48 89 f8              mov rax, rdi                               <- site
//   +0x03  48 8d 15 f6 00 00 00  lea rdx, [rip + 0xf6]   (the table, at +0x100)
//   +0x0a  53                    push rbx
//   +0x0b  83 f8 03              cmp eax, 3                                 <- loop head
//   +0x0e  77 0d                 ja +0x1d
//   +0x10  48 63 04 82           movsxd rax, dword [rdx + rax*4]
//   +0x14  48 01 d0              add rax, rdx
//   +0x17  ff e0                 jmp rax
//   +0x19  31 c0                 xor eax, eax                               (case: loop again)
//   +0x1b  eb ee                 jmp +0x0b
//   +0x1d  31 d2                 xor edx, edx                               (case and default: leave)
//   +0x1f  5b c3                 pop rbx; ret
const Bytes kLoopSwitch{0x48, 0x89, 0xf8, 0x48, 0x8d, 0x15, 0xf6, 0x00, 0x00, 0x00, 0x53, 0x83, 0xf8, 0x03, 0x77, 0x0d,
                        0x48, 0x63, 0x04, 0x82, 0x48, 0x01, 0xd0, 0xff, 0xe0, 0x31, 0xc0, 0xeb, 0xee, 0x31, 0xd2, 0x5b,
                        0xc3};

FakeImage loop_table(std::initializer_list<uint64_t> case_offsets) {
  FakeImage image = table(case_offsets);
  image.landing_pads = false;
  return image;
}
}  // namespace

TEST_CASE("x86_64 jump: a switch whose base is loaded before its loop holds it on every path", "[arch][x86_64]") {
  FakeImage good = loop_table({0x19, 0x1d, 0x19, 0x1d});
  SiteAnalysis a = analyze_jump(kLoopSwitch, 0, {}, {{}, {}, &good});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  // The table read through the proven base still decides: case 2 at +0x3 (the lea), inside the 10
  // bytes (mov, lea) the jump overwrites. (At +0x4, in the lea's middle, the walk refuses first.)
  FakeImage bad = loop_table({0x19, 0x1d, 0x03, 0x1d});
  CHECK(analyze_jump(kLoopSwitch, 0, {}, {{}, {}, &bad}).refusal ==
        "cannot jump: case 2 of the switch at +0x17 lands inside the bytes a jump would overwrite");
  // The looping case writes rdx (31 d2 for 31 c0): one path reaches the load with another value.
  Bytes clobbered = kLoopSwitch;
  clobbered[0x1a] = 0xd2;
  CHECK(analyze_jump(clobbered, 0, {}, {{}, {}, &good}).refusal ==
        "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before "
        "it, and rdx may not hold the table's address there: rdx is written at +0x19");
  // The looping case calls something (e8 00 00 00 00 then jmp back): rdx is caller-saved.
  Bytes call = kLoopSwitch;
  call.erase(call.begin() + 0x19, call.begin() + 0x1d);
  const Bytes calls{0xe8, 0x00, 0x00, 0x00, 0x00, 0xeb, 0xeb};  // call +0x1e; jmp +0x0b
  call.insert(call.begin() + 0x19, calls.begin(), calls.end());
  call[0x0f] = 0x10;  // ja +0x20, the xor edx, edx now there
  FakeImage call_table = loop_table({0x19, 0x20, 0x19, 0x20});
  CHECK(analyze_jump(call, 0, {}, {{}, {}, &call_table}).refusal ==
        "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before "
        "it, and rdx may not hold the table's address there: the call at +0x19 may change rdx");
  // The same function in a module whose code may have landing pads.
  FakeImage pads = table({0x19, 0x1d, 0x19, 0x1d});
  pads.landing_pads = true;
  CHECK(analyze_jump(kLoopSwitch, 0, {}, {{}, {}, &pads}).refusal ==
        "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before "
        "it, and the function has landing pads, which the unwinder enters unseen");
  // The module stores the loop head's address (a relocation): an indirect jump may arrive there.
  Bytes entries;
  for (uint64_t off : {0x19, 0x1d, 0x19, 0x1d})
    for (uint8_t b : rel32_from(kSite + 0x100, kSite + off)) entries.push_back(b);
  FakeImage stored(kSite + 0x100, entries, {kSite + 0x0b});
  stored.landing_pads = false;
  CHECK(analyze_jump(kLoopSwitch, 0, {}, {{}, {}, &stored}).refusal ==
        "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before "
        "it, and rdx may not hold the table's address there: an indirect jump may enter at +0xb, whose address is "
        "taken or stored");
  // A branch from another function of the module to the loop head.
  FakeImage entered = loop_table({0x19, 0x1d, 0x19, 0x1d});
  entered.code_ = {{0x400f00, {0xe9, 0x06, 0x01, 0x00, 0x00}}, {kSite, kLoopSwitch}};  // jmp 0x40100b
  CHECK(analyze_jump(kLoopSwitch, 0, {}, {{}, {}, &entered}).refusal ==
        "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before "
        "it, and rdx may not hold the table's address there: a branch from elsewhere in the module lands at +0xb");
  // ... or into an instruction's middle (the xor at +0x19), code the walk never decoded.
  FakeImage mid = loop_table({0x19, 0x1d, 0x19, 0x1d});
  mid.code_ = {{0x400f00, {0xe9, 0x15, 0x01, 0x00, 0x00}}, {kSite, kLoopSwitch}};  // jmp 0x40101a
  CHECK(analyze_jump(kLoopSwitch, 0, {}, {{}, {}, &mid}).refusal ==
        "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before "
        "it, and rdx may not hold the table's address there: a branch or case lands at 0x40101a, not where an "
        "instruction starts");
  // A module without .symtab: its local functions' branches are not all seen.
  FakeImage no_symtab = loop_table({0x19, 0x1d, 0x19, 0x1d});
  no_symtab.has_symtab = false;
  CHECK(analyze_jump(kLoopSwitch, 0, {}, {{}, {}, &no_symtab}).refusal ==
        "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before "
        "it, and the module has no symbol table (.symtab), so not every branch into the function from elsewhere can "
        "be seen");
}

TEST_CASE("x86_64 jump: a switch on a byte loaded from memory reads all 256 entries", "[arch][x86_64]") {
  //   +0x00  48 89 f8              mov rax, rdi                               <- site
  //   +0x03  48 8d 15 f6 00 00 00  lea rdx, [rip + 0xf6]   (the table, at +0x100)
  //   +0x0a  0f b6 07              movzx eax, byte [rdi]
  //   +0x0d  48 63 04 82           movsxd rax, dword [rdx + rax*4]
  //   +0x11  48 01 d0              add rax, rdx
  //   +0x14  ff e0                 jmp rax
  //   +0x16  c3                    ret
  const Bytes byte_switch{0x48, 0x89, 0xf8, 0x48, 0x8d, 0x15, 0xf6, 0x00, 0x00, 0x00, 0x0f, 0xb6,
                          0x07, 0x48, 0x63, 0x04, 0x82, 0x48, 0x01, 0xd0, 0xff, 0xe0, 0xc3};
  auto entries = [](size_t n, size_t bad_at = SIZE_MAX) {
    Bytes t;
    for (size_t i = 0; i < n; ++i)
      for (uint8_t b : rel32_from(kSite + 0x100, kSite + (i == bad_at ? 0x04 : 0x16))) t.push_back(b);
    return FakeImage(kSite + 0x100, t);
  };
  FakeImage good = entries(256);
  SiteAnalysis a = analyze_jump(byte_switch, 0, {}, {{}, {}, &good});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  // The last of the 256 is read too.
  FakeImage last = entries(256, 255);
  CHECK(analyze_jump(byte_switch, 0, {}, {{}, {}, &last}).refusal ==
        "cannot jump: case 255 of the switch at +0x14 lands inside the bytes a jump would overwrite");
  FakeImage shorter = entries(255);
  CHECK(analyze_jump(byte_switch, 0, {}, {{}, {}, &shorter}).refusal ==
        "cannot jump: the function has an indirect jump at +0x14 whose jump table at 0x401100 cannot be read");
  // movzx eax, word [rdi] (0f b7 07): 65536 entries is no bound.
  Bytes word = byte_switch;
  word[0x0b] = 0xb7;
  CHECK(analyze_jump(word, 0, {}, {{}, {}, &good}).refusal ==
        "cannot jump: the function has an indirect jump at +0x14 whose jump table's bound or base was not found right "
        "before it (a cmp and ja, and a lea of the table)");
}

TEST_CASE("x86_64 jump: a target computed from a table in another shape than a switch's refuses", "[arch][x86_64]") {
  FakeImage clean(kSite, {}, {kSite, kSite + 0x100});
  // A computed goto as in glibc's vfprintf, the entry added to a label's address, not the table's:
  //   +0x00  48 89 e5              mov rbp, rsp                               <- site
  //   +0x03  48 89 c3              mov rbx, rax
  //   +0x06  48 8d 05 f3 00 00 00  lea rax, [rip + 0xf3]   (the table, at +0x100)
  //   +0x0d  48 8d 35 09 00 00 00  lea rsi, [rip + 0x9]    (the label, at +0x1d)
  //   +0x14  48 63 04 90           movsxd rax, dword [rax + rdx*4]
  //   +0x18  48 01 f0              add rax, rsi
  //   +0x1b  ff e0                 jmp rax
  //   +0x1d  c3                    ret
  const Bytes goto_label{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x48, 0x8d, 0x05, 0xf3, 0x00, 0x00, 0x00, 0x48, 0x8d,
                         0x35, 0x09, 0x00, 0x00, 0x00, 0x48, 0x63, 0x04, 0x90, 0x48, 0x01, 0xf0, 0xff, 0xe0, 0xc3};
  CHECK(analyze_jump(goto_label, 0, {}, {{}, {}, &clean}).refusal ==
        "cannot jump: an indirect jump at +0x1b computes its target from a table uptrace cannot bound (loaded at "
        "+0x14)");
  // As glibc's strcmp_sse42, the sum a lea, with other work in between:
  //   +0x06  4f 63 0c 8a           movsxd r9, dword [r10 + r9*4]
  //   +0x0a  66 0f 74 c1           pcmpeqb xmm0, xmm1
  //   +0x0e  4f 8d 14 0a           lea r10, [r10 + r9]
  //   +0x12  41 ff e2              jmp r10
  const Bytes lea_sum{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x4f, 0x63, 0x0c, 0x8a, 0x66, 0x0f, 0x74,
                      0xc1, 0x4f, 0x8d, 0x14, 0x0a, 0x41, 0xff, 0xe2, 0xc3};
  CHECK(analyze_jump(lea_sum, 0, {}, {{}, {}, &clean}).refusal ==
        "cannot jump: an indirect jump at +0x12 computes its target from a table uptrace cannot bound (loaded at "
        "+0x6)");
  // The load in an earlier block, reached by a branch: +0x0a eb 03  jmp +0xf ; +0x0c 90 90 90 (never run) ;
  // +0x0f 4f 8d 14 0a  lea r10, [r10 + r9] ; +0x13 41 ff e2  jmp r10
  const Bytes across{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x4f, 0x63, 0x0c, 0x8a, 0xeb, 0x03, 0x90, 0x90,
                     0x90, 0x4f, 0x8d, 0x14, 0x0a, 0x41, 0xff, 0xe2, 0xc3};
  CHECK(analyze_jump(across, 0, {}, {{}, {}, &clean}).refusal ==
        "cannot jump: an indirect jump at +0x13 computes its target from a table uptrace cannot bound (loaded at "
        "+0x6)");
  // A pointer loaded from a table and jumped to unchanged, or demangled, is a stored address:
  //   +0x06  48 8b 04 cf           mov rax, qword [rdi + rcx*8]
  //   +0x0a  48 c1 c8 11           ror rax, 0x11
  //   +0x0e  ff e0                 jmp rax
  const Bytes pointer{0x48, 0x89, 0xe5, 0x48, 0x89, 0xc3, 0x48, 0x8b, 0x04, 0xcf, 0x48, 0xc1, 0xc8, 0x11, 0xff, 0xe0};
  SiteAnalysis a = analyze_jump(pointer, 0, {}, {{}, {}, &clean});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
}

TEST_CASE("x86_64 jump: registers an instruction writes that Capstone does not list break a base's proof", "[arch][x86_64]") {
  // A switch in a loop whose base is in rax, loaded before the loop:
  //   +0x00  48 89 f9              mov rcx, rdi                               <- site
  //   +0x03  48 8d 05 f6 00 00 00  lea rax, [rip + 0xf6]   (the table, at +0x100)
  //   +0x0a  53                    push rbx
  //   +0x0b  83 f9 03              cmp ecx, 3                                 <- loop head
  //   +0x0e  77 12                 ja +0x22
  //   +0x10  48 63 14 88           movsxd rdx, dword [rax + rcx*4]
  //   +0x14  48 01 c2              add rdx, rax
  //   +0x17  ff e2                 jmp rdx
  //   +0x19  0f 1f 44 00 00        nop                                        (case: loop again)
  //   +0x1e  31 c9                 xor ecx, ecx
  //   +0x20  eb e9                 jmp +0x0b
  //   +0x22  31 d2                 xor edx, edx                               (case and default: leave)
  //   +0x24  5b c3                 pop rbx; ret
  const Bytes loop{0x48, 0x89, 0xf9, 0x48, 0x8d, 0x05, 0xf6, 0x00, 0x00, 0x00, 0x53, 0x83, 0xf9,
                   0x03, 0x77, 0x12, 0x48, 0x63, 0x14, 0x88, 0x48, 0x01, 0xc2, 0xff, 0xe2, 0x0f,
                   0x1f, 0x44, 0x00, 0x00, 0x31, 0xc9, 0xeb, 0xe9, 0x31, 0xd2, 0x5b, 0xc3};
  FakeImage good = loop_table({0x19, 0x22, 0x19, 0x22});
  SiteAnalysis a = analyze_jump(loop, 0, {}, {{}, {}, &good});
  INFO(a.refusal);
  CHECK(a.plan != nullptr);
  const std::string written =
      "cannot jump: the function has an indirect jump at +0x17 whose jump table's base is not loaded right before it, "
      "and rax may not hold the table's address there: rax is written at +0x19";
  // The looping case's nop becomes an instruction that writes rax without naming it.
  const std::vector<Bytes> implicit{
      {0xf0, 0x48, 0x0f, 0xb1, 0x0f},  // lock cmpxchg qword [rdi], rcx: rax, when they differ
      {0xd7, 0x90, 0x90, 0x90, 0x90},  // xlatb: al
      {0x0f, 0x05, 0x90, 0x90, 0x90},  // syscall: rax (and rcx, r11)
  };
  for (const Bytes& insn : implicit) {
    INFO(hex_bytes(insn));
    Bytes with = loop;
    std::copy(insn.begin(), insn.end(), with.begin() + 0x19);
    CHECK(analyze_jump(with, 0, {}, {{}, {}, &good}).refusal == written);
  }
}
