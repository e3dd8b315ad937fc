#include "outcome.h"

#include <string.h>

#include <algorithm>

#include <fmt/format.h>

#include "arch/x86_64/registers.h"

namespace xol_diff {
namespace {

namespace x86 = uptrace::arch::x86_64;

constexpr const char* kWordNames[] = {"r15", "r14", "r13", "r12", "rbp",     "rbx", "r11",    "r10", "r9",
                                      "r8",  "rax", "rcx", "rdx", "rsi",     "rdi", "orig_rax", "rip", "cs",
                                      "eflags", "rsp", "ss", "fs_base", "gs_base", "ds", "es",   "fs",  "gs"};

std::string signal_text(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

std::string summary(const Outcome& o) {
  switch (o.kind) {
    case Outcome::Kind::Completed: return fmt::format("completed at {:#x}", o.state.regs.words[x86::kRip]);
    case Outcome::Kind::Fault:
      return fmt::format("{} (fault_code {}, addr {:#x}) at {:#x}", signal_text(o.signal), o.fault_code, o.fault_addr,
                         o.state.regs.words[x86::kRip]);
    case Outcome::Kind::Broken: return "broken: " + o.note;
  }
  return {};
}

std::vector<std::string> compare(const Outcome& a, const Outcome& b, const Unreproducible& ignore) {
  std::vector<std::string> out;
  if (a.kind == Outcome::Kind::Broken || b.kind == Outcome::Kind::Broken || a.kind != b.kind ||
      (a.kind == Outcome::Kind::Fault &&
       (a.signal != b.signal || a.fault_code != b.fault_code || a.fault_addr != b.fault_addr))) {
    out.push_back(fmt::format("in place {}; out of line {}", summary(a), summary(b)));
    if (a.kind == Outcome::Kind::Broken || b.kind == Outcome::Kind::Broken) return out;
  }
  for (uint16_t w = 0; w < x86::kWordCount; ++w) {
    if (std::find(ignore.words.begin(), ignore.words.end(), w) != ignore.words.end()) continue;
    uint64_t x = a.state.regs.words[w], y = b.state.regs.words[w];
    if (w == x86::kEflags) {
      x &= ~ignore.flags;
      y &= ~ignore.flags;
    }
    if (x != y) out.push_back(fmt::format("{}: {:#x} in place, {:#x} out of line", kWordNames[w], x, y));
  }
  const auto& xa = a.state.xstate;
  const auto& xb = b.state.xstate;
  for (size_t i = 0; i < std::min(xa.size(), xb.size()); ++i) {
    if (i >= xsave::kFop && i < xsave::kFpuPtrsEnd) continue;
    if (xa[i] != xb[i]) {
      out.push_back(fmt::format("{} differs (xstate byte {:#x})", xstate_field(i), i));
      break;
    }
  }
  if (!(a.memory == b.memory)) out.push_back(MemoryScene::difference(a.memory, b.memory));
  return out;
}

}  // namespace xol_diff
