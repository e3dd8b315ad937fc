// check_site: a jump's relay (arch::Relay, x86-64) is checked in the live
// process as the bytes at the site are: the padding must be the file's,
// and no other probe's jump and no stopped thread may be in it.
#include <catch2/catch.hpp>

#include "arch/x86_64/x86_64_isa.h"
#include "core/site_check.h"
#include "fake_memory.h"

using namespace uptrace;
using namespace uptrace::core;

namespace {

constexpr uint64_t kSite = 0x401000, kRing = 0x7f0000100000;

// The module: a function 0x400f00 that ends in a jmp to kSite + 3 (as
// __mempcpy_* enters __memmove_*), then the probed function.
class Module final : public arch::ImageReader {
 public:
  bool read(RuntimeAddr, std::span<uint8_t>) const override { return false; }
  std::optional<bool> pointer_into(RuntimeAddr, RuntimeAddr) const override { return false; }
  std::vector<arch::CodePart> functions() const override {
    return {{RuntimeAddr(0x400f00), entering}, {RuntimeAddr(kSite), probed}};
  }
  bool functions_complete() const override { return true; }
  // 48 89 f8  mov rax, rdi ; 48 01 d0  add rax, rdx ; e9 f8 00 00 00  jmp 0x401003
  std::vector<uint8_t> entering{0x48, 0x89, 0xf8, 0x48, 0x01, 0xd0, 0xe9, 0xf8, 0x00, 0x00, 0x00};
  // 48 89 f8  mov rax, rdi ; 48 89 c3  mov rbx, rax ; c3  ret
  std::vector<uint8_t> probed{0x48, 0x89, 0xf8, 0x48, 0x89, 0xc3, 0xc3};
};

struct Fixture {
  const arch::Isa& isa = arch::x86_64::x86_64_isa();
  std::shared_ptr<Module> module = std::make_shared<Module>();
  ProbeSite site;
  test::FakeMemory memory{kSite - 0x100, 0x200};
  std::set<uint64_t> probes{kSite};
  std::map<pid_t, uint64_t> pcs;

  Fixture() {
    site.name = "probed";
    site.addr = site.function_start = RuntimeAddr(kSite);
    site.function_code = module->probed;
    site.before_function = std::vector<uint8_t>(8, 0xcc);
    site.image = module;
    memory.put_bytes(kSite - 8, site.before_function.data(), 8);
    memory.put_bytes(kSite, site.function_code.data(), site.function_code.size());
  }
  SiteVerdict check() {
    const ProbeSite* group[] = {&site};
    PlanRequest request;
    request.mode = arch::ModeRequest::Jump;
    request.step = arch::StepMechanism::HardwareStep;
    return check_site(isa, group, RuntimeAddr(kSite + 0x100000), request, RuntimeAddr(kRing), 0,
                      SiteEnvironment{&memory, &probes, &pcs});
  }
};

}  // namespace

TEST_CASE("site check: a jump's relay in the padding before the function", "[core][site]") {
  Fixture f;
  SiteVerdict ok = f.check();
  INFO(ok.refusal);
  REQUIRE(ok.plan.analysis.plan);
  auto relay = ok.plan.analysis.plan->relay();
  REQUIRE(relay);
  CHECK(relay->at.value == kSite - 5);

  // Other bytes in memory than in the file there.
  f.memory.put<uint8_t>(kSite - 3, 0x90);
  CHECK(f.check().refusal ==
        "cannot jump: the padding before the function differs in memory from the file");
  f.memory.put<uint8_t>(kSite - 3, 0xcc);

  // Another probe whose jump may reach the relay: in the padding, or up to
  // 4 bytes before it (a ret there would overwrite padding after it).
  f.probes.insert(kSite - 9);
  CHECK(f.check().refusal == "cannot jump: the probe at 0x400ff7 may overwrite the padding before the function, where "
                             "the jump's relay goes");
  f.probes.erase(kSite - 9);
  f.probes.insert(kSite - 10);
  CHECK(f.check().plan.analysis.plan);
  f.probes.erase(kSite - 10);

  // A thread stopped inside it.
  f.pcs[42] = kSite - 2;
  CHECK(f.check().refusal == "cannot jump: thread 42 is stopped in the padding before the function");
  // At the relay's start it runs the relay, which goes where the padding went: the site.
  f.pcs[42] = kSite - 5;
  CHECK(f.check().plan.analysis.plan);
}
