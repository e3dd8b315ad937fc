// Every row of the x86-64 instruction table, each with an instruction that
// must fall in it; and instructions that must fall in none.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "arch/x86_64/insn_table.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64;
using namespace uptrace::arch::x86_64::test;

namespace {

// One instruction per row, keyed by the row's name.
const std::map<std::string, Bytes>& samples() {
  static const std::map<std::string, Bytes> s = {
      {"int3", {0xcc}},                                                // int3
      {"int 3", {0xcd, 0x03}},                                         // int 3
      {"int1", {0xf1}},                                                // int1
      {"int N", {0xcd, 0x80}},                                         // int 0x80
      {"iret", {0x48, 0xcf}},                                          // iretq
      {"syscall", {0x0f, 0x05}},                                       // syscall
      {"sysenter/sysexit", {0x0f, 0x34}},                              // sysenter
      {"sysret", {0x0f, 0x07}},                                        // sysret
      {"ud2", {0x0f, 0x0b}},                                           // ud2
      {"ud1", {0x0f, 0xb9, 0xc0}},                                     // ud1 eax, eax
      {"ud0", {0x0f, 0xff, 0xc0}},                                     // ud0 eax, eax
      {"ins/outs", {0x6c}},                                            // insb
      {"in/out imm8", {0xe4, 0x10}},                                   // in al, 0x10
      {"in/out dx", {0xec}},                                           // in al, dx
      {"hlt", {0xf4}},                                                 // hlt
      {"cli/sti", {0xfa}},                                             // cli
      {"lldt", {0x0f, 0x00, 0xd0}},                                    // lldt ax
      {"ltr", {0x0f, 0x00, 0xd8}},                                     // ltr ax
      {"lgdt", {0x0f, 0x01, 0x15, 0x10, 0x00, 0x00, 0x00}},            // lgdt [rip + 0x10]
      {"lidt", {0x0f, 0x01, 0x1d, 0x10, 0x00, 0x00, 0x00}},            // lidt [rip + 0x10]
      {"lmsw", {0x0f, 0x01, 0xf0}},                                    // lmsw ax
      {"invlpg", {0x0f, 0x01, 0x38}},                                  // invlpg byte ptr [rax]
      {"xgetbv", {0x0f, 0x01, 0xd0}},                                  // xgetbv
      {"xend", {0x0f, 0x01, 0xd5}},                                    // xend
      {"xtest", {0x0f, 0x01, 0xd6}},                                   // xtest
      {"serialize", {0x0f, 0x01, 0xe8}},                               // serialize
      {"rdpkru", {0x0f, 0x01, 0xee}},                                  // rdpkru
      {"wrpkru", {0x0f, 0x01, 0xef}},                                  // wrpkru
      {"rdtscp", {0x0f, 0x01, 0xf9}},                                  // rdtscp
      {"smsw r", {0x0f, 0x01, 0xe0}},                                  // smsw eax
      {"0f 01 register forms", {0x0f, 0x01, 0xf8}},                    // swapgs
      {"clts", {0x0f, 0x06}},                                          // clts
      {"invd/wbinvd", {0x0f, 0x09}},                                   // wbinvd
      {"mov cr/dr", {0x0f, 0x22, 0xc0}},                               // mov cr0, rax
      {"wrmsr", {0x0f, 0x30}},                                         // wrmsr
      {"rdmsr", {0x0f, 0x32}},                                         // rdmsr
      {"getsec", {0x0f, 0x37}},                                        // getsec
      {"rsm", {0x0f, 0xaa}},                                           // rsm
      {"cpuid", {0x0f, 0xa2}},                                         // cpuid
      {"vmread/vmwrite", {0x0f, 0x78, 0xc0}},                          // vmread rax, rax
      {"vmptrld/vmclear/vmxon", {0x0f, 0xc7, 0x35, 0x10, 0, 0, 0}},    // vmptrld qword ptr [rip + 0x10]
      {"vmptrst", {0x0f, 0xc7, 0x3d, 0x10, 0, 0, 0}},                  // vmptrst qword ptr [rip + 0x10]
      {"invept/invvpid/invpcid", {0x66, 0x0f, 0x38, 0x82, 0x05, 0x10, 0, 0, 0}},  // invpcid rax, [rip + 0x10]
      {"far ret", {0xcb}},                                             // retf
      {"far call", {0xff, 0x1d, 0x10, 0x00, 0x00, 0x00}},              // lcall [rip + 0x10]
      {"far jmp", {0xff, 0x2d, 0x10, 0x00, 0x00, 0x00}},               // ljmp [rip + 0x10]
      {"mov ss", {0x8e, 0xd0}},                                        // mov ss, eax
      {"xbegin", {0xc7, 0xf8, 0x00, 0x01, 0x00, 0x00}},                // xbegin +0x100
      {"push/pop es", {0x06}},                                         // (push es)
      {"push cs", {0x0e}},                                             // (push cs)
      {"push/pop ss", {0x17}},                                         // (pop ss)
      {"push/pop ds", {0x1e}},                                         // (push ds)
      {"daa", {0x27}},                                                 // (daa)
      {"das", {0x2f}},                                                 // (das)
      {"aaa", {0x37}},                                                 // (aaa)
      {"aas", {0x3f}},                                                 // (aas)
      {"pusha/popa", {0x60}},                                          // (pusha)
      {"82 (group 1 alias)", {0x82, 0xc0, 0x01}},                      // (add al, 1)
      {"call far absolute", {0x9a, 0, 0, 0, 0, 0, 0}},                 // (call far ptr 0:0)
      {"into", {0xce}},                                                // (into)
      {"aam/aad/salc", {0xd4, 0x0a}},                                  // (aam)
      {"jmp far absolute", {0xea, 0, 0, 0, 0, 0, 0}},                  // (jmp far ptr 0:0)
      {"rep movs/cmps", {0xf3, 0xa4}},                                 // rep movsb
      {"rep stos/lods/scas", {0xf3, 0x48, 0xab}},                      // rep stosq
      {"jcc rel8 with 66", {0x66, 0x74, 0x10}},                        // data16 je
      {"jcc rel32 with 66", {0x66, 0x0f, 0x84, 0x00, 0x01}},           // je rel16
      {"loop/jrcxz with 66", {0x66, 0xe2, 0x10}},                      // data16 loop
      {"call/jmp rel with 66", {0x66, 0xe8, 0x00, 0x01}},              // call rel16
      {"jmp rel8 with 66", {0x66, 0xeb, 0x10}},                        // data16 jmp
      {"ret with 66", {0x66, 0xc3}},                                   // retw
      {"indirect call with 66", {0x66, 0xff, 0xd0}},                   // call ax
      {"indirect jmp with 66", {0x66, 0xff, 0xe0}},                    // jmp ax
      {"jmp rel8", {0xeb, 0x10}},                                      // jmp +0x10
      {"jmp rel32", {0xe9, 0x00, 0x01, 0x00, 0x00}},                   // jmp +0x100
      {"call rel32", {0xe8, 0x00, 0x01, 0x00, 0x00}},                  // call +0x100
      {"jcc rel8", {0x74, 0x10}},                                      // je +0x10
      {"jcc rel32", {0x0f, 0x84, 0x00, 0x01, 0x00, 0x00}},             // je +0x100
      {"loop/loope/loopne", {0xe2, 0x10}},                             // loop +0x10
      {"jrcxz/jecxz", {0xe3, 0x10}},                                   // jrcxz +0x10
      {"xchg r8, rax", {0x41, 0x90}},                                  // xchg eax, r8d
      {"nop", {0x90}},                                                 // nop
      {"nop r/m", {0x0f, 0x1f, 0x44, 0x00, 0x00}},                     // nop dword ptr [rax + rax]
      {"endbr64", {0xf3, 0x0f, 0x1e, 0xfa}},                           // endbr64
      {"endbr32", {0xf3, 0x0f, 0x1e, 0xfb}},                           // endbr32
      {"push r64", {0x55}},                                            // push rbp
      {"push imm32", {0x68, 0x00, 0x01, 0x00, 0x00}},                  // push 0x100
      {"push imm8", {0x6a, 0x05}},                                     // push 5
      {"pushf", {0x9c}},                                               // pushfq
      {"ret", {0xc3}},                                                 // ret
      {"ret imm16", {0xc2, 0x08, 0x00}},                               // ret 8
      {"jmp r/m64", {0xff, 0xe0}},                                     // jmp rax
      {"call r/m64", {0xff, 0xd0}},                                    // call rax
      {"lea rip-relative", {0x48, 0x8d, 0x05, 0xe1, 0x2e, 0x00, 0x00}},  // lea rax, [rip + 0x2ee1]
  };
  return s;
}

const InsnRow* row_of(const Bytes& code) {
  const auto enc = parse_encoding(code);
  REQUIRE(enc);
  return classify(*enc, code);
}

bool refused(const InsnRow& row) { return row.cls == InsnClass::Trap || row.cls == InsnClass::Refused; }

}  // namespace

TEST_CASE("x86_64 table: every row has a sample that falls in it, and a reason", "[arch][x86_64]") {
  REQUIRE(insn_rows().size() == samples().size());
  for (const InsnRow& row : insn_rows()) {
    INFO("row: " << row.name);
    CHECK_FALSE(row.reason.empty());
    const auto it = samples().find(std::string(row.name));
    REQUIRE(it != samples().end());
    const InsnRow* got = row_of(it->second);
    REQUIRE(got != nullptr);
    CHECK(got->name == row.name);
  }
}

TEST_CASE("x86_64 table: a refused row is what analyze reports", "[arch][x86_64]") {
  for (const InsnRow& row : insn_rows()) {
    if (!refused(row)) continue;
    INFO("row: " << row.name);
    const SiteAnalysis a = analyze(samples().at(std::string(row.name)));
    CHECK(a.plan == nullptr);
    CHECK(a.refusal == row.reason);
  }
}

TEST_CASE("x86_64 table: refusal phrases", "[arch][x86_64]") {
  CHECK(analyze({0xcc}).refusal == "int3 is already a breakpoint instruction");
  CHECK(analyze({0x0f, 0x05}).refusal ==
        "syscall cannot run out of line: it may block with the thread inside the slot and its "
        "restart/clone/sigreturn see the slot address");
  CHECK(analyze({0xc7, 0xf8, 0x00, 0x01, 0x00, 0x00}).refusal ==
        "xbegin: its abort address is pc-relative and a transaction aborts on single-step");
  CHECK(analyze({0xec}).refusal == "in/out/ins/outs/hlt/cli/sti are privileged");
  CHECK(analyze({0xcb}).refusal == "far call/jmp/ret change the code segment");
  CHECK(analyze({0x66, 0xe8, 0x00, 0x01}).refusal == "branch with an operand-size (0x66) prefix: Intel and AMD differ");
  CHECK(analyze({0x8e, 0xd0}).refusal == "mov/pop ss inhibit the single-step trap");
  CHECK(analyze({0x0f, 0x0b}).refusal == "undefined instruction (ud0/ud1/ud2)");
  CHECK(analyze({0x37}).refusal == "aaa is invalid in 64-bit mode");
  // REX.W overrides 66 on near branches (66 48 ff d0: call rax), except ret,
  // whose "66 48 c2 iw" form Capstone 4 decodes two bytes too long.
  CHECK(row_of({0x66, 0x48, 0xff, 0xd0})->cls == InsnClass::CallIndirect);
  CHECK(row_of({0x66, 0x48, 0xe9, 0x00, 0x01, 0x00, 0x00})->cls == InsnClass::JmpRel);
  CHECK(analyze({0x66, 0x48, 0xc3}).refusal == "branch with an operand-size (0x66) prefix: Intel and AMD differ");
  // Found by xol-diff on a KVM guest: single-stepping 0f a2 (cpuid) in place
  // stopped only after the next instruction; out of line the step would run
  // past the slot. Refused in every mode.
  CHECK(analyze({0x0f, 0xa2}).refusal ==
        "cpuid exits to the hypervisor in a virtual machine, and some drop the single-step trap after it: the copy "
        "would run on past its slot");
  CHECK(analyze({0x0f, 0xa2}, kSite, kNearSlot, ModeRequest::Trap).plan == nullptr);
  // A trap refuses whatever mode was asked for.
  CHECK(analyze({0xcc}, kSite, kNearSlot, ModeRequest::Boost).refusal == "int3 is already a breakpoint instruction");
}

TEST_CASE("x86_64 table: ordinary instructions fall in no row", "[arch][x86_64]") {
  const Bytes plain[] = {
      {0x48, 0x89, 0xe5},                                        // mov rbp, rsp
      {0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00},                // mov rax, qword ptr [rip + 0x2ee1]
      {0xf0, 0x48, 0xff, 0x05, 0x10, 0x00, 0x00, 0x00},          // lock inc qword ptr [rip + 0x10]
      {0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00, 0x00},    // mov rax, qword ptr fs:[0x28]
      {0xff, 0xf0},                                              // push rax (ff /6): stepped
      {0x8e, 0xd8},                                              // mov ds, eax
      {0x0f, 0x01, 0x05, 0x10, 0x00, 0x00, 0x00},                // sgdt [rip + 0x10]
      {0x0f, 0x00, 0xc0},                                        // sldt eax
      {0xa4},                                                    // movsb (no rep)
      {0x0f, 0xae, 0xf0},                                        // mfence
      {0x0f, 0xae, 0x05, 0x10, 0x00, 0x00, 0x00},                // fxsave [rip + 0x10]
      {0xf3, 0x48, 0x0f, 0xae, 0xc0},                            // rdfsbase rax
      {0x9d},                                                    // popfq
      {0x48, 0x8d, 0x04, 0x24},                                  // lea rax, [rsp]: not rip-relative
      {0x0f, 0x1f, 0x48, 0x00},                                  // nop r/m with reg 1: a hint nop, stepped
      {0x66, 0x0f, 0x78, 0xc0, 0x01, 0x02},                      // extrq xmm0, 1, 2 (66 0f 78 is not vmread)
      {0x62, 0xf1, 0x7c, 0x48, 0x78, 0xc1},                      // vcvttps2udq zmm0, zmm1 (EVEX 0f 78)
      {0xc5, 0xf8, 0x77},                                        // vzeroupper
      {0xc4, 0xe2, 0x79, 0x18, 0x05, 0x00, 0x00, 0x00, 0x00},    // vbroadcastss xmm0, dword ptr [rip]
  };
  for (const Bytes& code : plain) {
    INFO(hex_bytes(code));
    const InsnRow* row = row_of(code);
    CHECK((row == nullptr || row->cls == InsnClass::Plain));
  }
  // 3e ff d0    notrack call rax: still an indirect call
  CHECK(row_of({0x3e, 0xff, 0xd0})->cls == InsnClass::CallIndirect);
  // f2 ff e0    bnd jmp rax
  CHECK(row_of({0xf2, 0xff, 0xe0})->cls == InsnClass::JmpIndirect);
  // f2 74 10    bnd je: like a plain je
  CHECK(row_of({0xf2, 0x74, 0x10})->cls == InsnClass::Jcc);
  // 3e 74 10    je with a branch-taken hint
  CHECK(row_of({0x3e, 0x74, 0x10})->cls == InsnClass::Jcc);
  // 66 90       xchg ax, ax
  CHECK(row_of({0x66, 0x90})->cls == InsnClass::Nop);
  // f3 90       pause: a nop with a spin-wait hint
  CHECK(row_of({0xf3, 0x90})->cls == InsnClass::Nop);
  // 66 2e 0f 1f 84 00 00 00 00 00    nop word ptr cs:[rax + rax]
  CHECK(row_of({0x66, 0x2e, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00})->cls == InsnClass::Nop);
  // 41 57       push r15
  CHECK(row_of({0x41, 0x57})->cls == InsnClass::PushReg);
  // 0f 1e fa    endbr64 without its f3 is a hint nop, stepped
  CHECK(row_of({0x0f, 0x1e, 0xfa}) == nullptr);
}
