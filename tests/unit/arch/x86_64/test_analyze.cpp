// Mode choice: what analyze picks for each request, and what it declines.
#include <catch2/catch.hpp>

#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::x86_64::test;

namespace {

using Declined = std::vector<std::pair<ExecMode, std::string>>;

}  // namespace

TEST_CASE("x86_64 analyze: auto picks emulation when there is one, else boost, else a step", "[arch][x86_64]") {
  // e8 fb 01 00 00      call 0x401200
  SiteAnalysis call = analyze({0xe8, 0xfb, 0x01, 0x00, 0x00});
  REQUIRE(call.plan);
  CHECK(call.refusal.empty());
  CHECK(call.plan->mode() == ExecMode::Emulate);
  CHECK(call.declined == Declined{{ExecMode::Jump, "jump mode is not available"}});
  CHECK(call.insn.address == RuntimeAddr(kSite));
  CHECK(call.insn.length == 5);
  CHECK(call.insn.text == "call 0x401200");

  // 48 89 e5            mov rbp, rsp
  SiteAnalysis mov = analyze({0x48, 0x89, 0xe5});
  REQUIRE(mov.plan);
  CHECK(mov.plan->mode() == ExecMode::Boost);
  CHECK(mov.declined == Declined{{ExecMode::Emulate, "mov cannot be emulated"},
                                 {ExecMode::Jump, "jump mode is not available"}});

  // 66 50               push ax: boosted, with the reason it is not emulated
  SiteAnalysis push16 = analyze({0x66, 0x50});
  REQUIRE(push16.plan);
  CHECK(push16.plan->mode() == ExecMode::Boost);
  CHECK(push16.declined.at(0) ==
        std::pair<ExecMode, std::string>{ExecMode::Emulate, "push with an operand-size (0x66) prefix cannot be emulated"});

  // ff 25 10 00 00 00   jmp qword ptr [rip + 0x10]
  SiteAnalysis plt = analyze({0xff, 0x25, 0x10, 0x00, 0x00, 0x00});
  REQUIRE(plt.plan);
  CHECK(plt.plan->mode() == ExecMode::Boost);

  // ff d0               call rax: the pushed return address needs the step's fixup
  SiteAnalysis call_reg = analyze({0xff, 0xd0});
  REQUIRE(call_reg.plan);
  CHECK(call_reg.plan->mode() == ExecMode::Trap);
  CHECK(call_reg.declined.at(1) == std::pair<ExecMode, std::string>{
                                       ExecMode::Boost, "a call from the slot would push a return address inside the slot"});

  // 48 8b 05 e1 2e 00 00  mov rax, [rip + 0x2ee1] with the slot out of disp32 reach: stepped via a scratch register
  SiteAnalysis far = analyze({0x48, 0x8b, 0x05, 0xe1, 0x2e, 0x00, 0x00}, kSite, kFarSlot);
  REQUIRE(far.plan);
  CHECK(far.plan->mode() == ExecMode::Trap);
  CHECK(far.declined.at(1).first == ExecMode::Boost);
  CHECK(far.declined.at(1).second.find("borrows a register") != std::string::npos);
}

TEST_CASE("x86_64 analyze: a requested mode is used or refused with the reason", "[arch][x86_64]") {
  // e8 fb 01 00 00      call 0x401200, --mode trap: stepped although it could be emulated
  SiteAnalysis call = analyze({0xe8, 0xfb, 0x01, 0x00, 0x00}, kSite, kNearSlot, ModeRequest::Trap);
  REQUIRE(call.plan);
  CHECK(call.plan->mode() == ExecMode::Trap);
  CHECK(call.declined.at(0) == std::pair<ExecMode, std::string>{ExecMode::Emulate, "trap mode was requested"});

  // 74 10               je, --mode emulate
  SiteAnalysis je = analyze({0x74, 0x10}, kSite, kNearSlot, ModeRequest::Emulate);
  REQUIRE(je.plan);
  CHECK(je.plan->mode() == ExecMode::Emulate);

  // 48 89 e5            mov rbp, rsp, --mode emulate
  SiteAnalysis mov = analyze({0x48, 0x89, 0xe5}, kSite, kNearSlot, ModeRequest::Emulate);
  CHECK(mov.plan == nullptr);
  CHECK(mov.refusal == "mov cannot be emulated");
  CHECK(mov.insn.text == "mov rbp, rsp");

  // 90                  nop, --mode boost: boosted although it could be emulated
  SiteAnalysis boost = analyze({0x90}, kSite, kNearSlot, ModeRequest::Boost);
  REQUIRE(boost.plan);
  CHECK(boost.plan->mode() == ExecMode::Boost);
  CHECK(boost.declined.at(0) == std::pair<ExecMode, std::string>{ExecMode::Emulate, "boost mode was requested"});

  // e8 fb 01 00 00      call 0x401200, --mode boost
  SiteAnalysis call_boost = analyze({0xe8, 0xfb, 0x01, 0x00, 0x00}, kSite, kNearSlot, ModeRequest::Boost);
  CHECK(call_boost.plan == nullptr);
  CHECK(call_boost.refusal == "cannot boost: a call from the slot would push a return address inside the slot");

  // 90                  nop, --mode jump
  SiteAnalysis jump = analyze({0x90}, kSite, kNearSlot, ModeRequest::Jump);
  CHECK(jump.plan == nullptr);
  CHECK(jump.refusal == "cannot jump: jump mode is not available");
}

TEST_CASE("x86_64 analyze: the site is found inside the function", "[arch][x86_64]") {
  // 55                  push rbp
  // 48 89 e5            mov rbp, rsp       <- site, function + 1
  // c3                  ret
  const Bytes function{0x55, 0x48, 0x89, 0xe5, 0xc3};
  SiteContext ctx{RuntimeAddr(0x401000), function, RuntimeAddr(0x401001), RuntimeAddr(kNearSlot), ModeRequest::Trap};
  SiteAnalysis a = isa().analyze(ctx);
  REQUIRE(a.plan);
  CHECK(a.insn.address == RuntimeAddr(0x401001));
  CHECK(a.insn.text == "mov rbp, rsp");
  CHECK(a.plan->slot_code() == Bytes{0x48, 0x89, 0xe5});

  ctx.site = RuntimeAddr(0x401005);  // one past the end
  a = isa().analyze(ctx);
  CHECK(a.plan == nullptr);
  CHECK(a.refusal == "the probe address is outside the function's code");
}

TEST_CASE("x86_64 analyze: bytes the decoder cannot decode", "[arch][x86_64]") {
  // 0f 1e c0            a hint nop Capstone 4 does not know
  SiteAnalysis a = analyze({0x0f, 0x1e, 0xc0});
  CHECK(a.plan == nullptr);
  CHECK(a.refusal == "undecodable instruction");
  CHECK(a.insn.text == "(bad)");
  CHECK(a.insn.address == RuntimeAddr(kSite));
}
