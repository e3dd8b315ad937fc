#include "core/site_check.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace uptrace::core {

namespace {

constexpr size_t kLongestInstruction = 16;
// How far before a relay another jump probe's bytes may start and still
// reach it: a jmp rel32 is 5 bytes.
constexpr uint64_t kJumpReachIntoPadding = 4;

std::string hex_bytes(std::span<const uint8_t> bytes) {
  std::string out;
  for (uint8_t b : bytes) out += fmt::format("{}{:02x}", out.empty() ? "" : " ", b);
  return out;
}

// As many bytes at `at` as can be read, up to `max`: a trap written over a
// short instruction (cd 03 over a 1-byte push) must still decode whole.
std::vector<uint8_t> read_up_to(MemoryAccess& mem, RuntimeAddr at, size_t min, size_t max) {
  std::vector<uint8_t> bytes(max);
  for (size_t n = max; n >= min && n > 0; --n)
    if (mem.read(at, std::span(bytes).first(n))) {
      bytes.resize(n);
      return bytes;
    }
  return {};
}

// Why a jump cannot overwrite its bytes in the live process, or "".
std::string jump_obstacle(const arch::Isa& isa, const ProbeSite& s, uint64_t patched, const SiteEnvironment& env) {
  const uint64_t begin = s.addr.value, end = begin + patched;
  if (env.live) {
    const size_t at = static_cast<size_t>(s.addr - s.function_start);
    // A jump at a function's last ret or jmp may overwrite padding after it.
    std::vector<uint8_t> file(s.function_code);
    file.insert(file.end(), s.after_function.begin(), s.after_function.end());
    std::vector<uint8_t> live(patched);
    if (!env.live->read(s.addr, live) || at + patched > file.size())
      return "the bytes a jump would overwrite cannot be read";
    if (!std::equal(live.begin(), live.end(), file.begin() + static_cast<long>(at))) {
      // Name a trap someone else placed there (a kernel uprobe, a debugger).
      for (size_t off = 1; off < patched; ++off) {
        std::vector<uint8_t> rest = read_up_to(*env.live, s.addr + off, 1, kLongestInstruction);
        auto decoded = isa.decode(rest, s.addr + off);
        if (!decoded.empty() && isa.is_trap(decoded.front()) &&
            !std::equal(rest.begin(), rest.begin() + decoded.front().length,
                        file.begin() + static_cast<long>(at + off),
                        file.begin() + static_cast<long>(std::min(file.size(), at + off + decoded.front().length))))
          return fmt::format("{} at +{:#x}, a breakpoint someone else placed, is inside the bytes a jump would "
                             "overwrite",
                             decoded.front().text, off);
      }
      return "the bytes a jump would overwrite differ in memory from the file";
    }
  }
  if (env.probe_addresses) {
    auto next = env.probe_addresses->upper_bound(begin);
    if (next != env.probe_addresses->end() && *next < end)
      return fmt::format("the probe at {:#x} is inside the bytes a jump would overwrite", *next);
  }
  if (env.thread_pcs)
    for (auto [tid, pc] : *env.thread_pcs)
      if (pc > begin && pc < end) return fmt::format("thread {} is stopped inside the bytes a jump would overwrite", tid);
  return {};
}

// Why the relay (arch::Relay: the padding before the function) cannot be
// written in the live process, or "".
std::string relay_obstacle(const ProbeSite& s, const arch::Relay& relay, const SiteEnvironment& env) {
  const uint64_t begin = relay.at.value, end = s.addr.value;
  if (end < begin || end - begin > s.before_function.size()) return "the relay is not in the padding before the function";
  if (env.live) {
    std::vector<uint8_t> live(end - begin);
    if (!env.live->read(relay.at, live)) return "the padding before the function cannot be read";
    if (!std::equal(live.begin(), live.end(), s.before_function.end() - static_cast<long>(live.size())))
      return "the padding before the function differs in memory from the file";
  }
  // A jump at an instruction that ends less than 5 bytes before the padding
  // may overwrite its start (x86-64: a ret or jmp followed by padding).
  if (env.probe_addresses) {
    auto next = env.probe_addresses->lower_bound(begin - std::min<uint64_t>(begin, kJumpReachIntoPadding));
    if (next != env.probe_addresses->end() && *next < end)
      return fmt::format("the probe at {:#x} may overwrite the padding before the function, where the jump's relay "
                         "goes",
                         *next);
  }
  if (env.thread_pcs)
    for (auto [tid, pc] : *env.thread_pcs)
      if (pc > begin && pc < end) return fmt::format("thread {} is stopped in the padding before the function", tid);
  return {};
}

// Why the instruction at the site, as in memory, is not what was analysed.
std::string live_code_refusal(const arch::Isa& isa, const ProbeSite& s, const arch::Instruction& insn,
                              MemoryAccess& live) {
  std::vector<uint8_t> bytes = read_up_to(live, s.addr, insn.length, std::max<size_t>(insn.length, kLongestInstruction));
  if (bytes.empty()) return fmt::format("{:#x} cannot be read", s.addr.value);
  if (std::equal(insn.bytes.begin(), insn.bytes.begin() + insn.length, bytes.begin())) return {};
  auto decoded = isa.decode(bytes, s.addr);
  if (!decoded.empty() && isa.is_trap(decoded.front()))
    return fmt::format("{} in memory is already a breakpoint instruction (another debugger's?)", decoded.front().text);
  return fmt::format("the code in memory at {:#x} ({}) differs from the file", s.addr.value,
                     hex_bytes(std::span<const uint8_t>(bytes).first(insn.length)));
}

}  // namespace

SiteVerdict check_site(const arch::Isa& isa, std::span<const ProbeSite* const> group, RuntimeAddr slot,
                       const PlanRequest& request, std::optional<RuntimeAddr> ring, uint32_t first_record,
                       const SiteEnvironment& env) {
  const ProbeSite& s = *group.front();
  SiteVerdict v{plan_site(isa, group, slot, request, ring, first_record), {}};
  const arch::SiteAnalysis* a = &v.plan.analysis;
  if (a->plan && a->plan->mode() == arch::ExecMode::Jump) {
    std::string why = jump_obstacle(isa, s, a->plan->site_patch().size(), env);
    if (auto relay = a->plan->relay(); relay && why.empty()) why = relay_obstacle(s, *relay, env);
    if (!why.empty()) {
      v.plan = plan_site(isa, group, slot, request, ring, first_record, why);
      a = &v.plan.analysis;
    }
  }
  if (!a->plan) {
    v.refusal = a->refusal;
    return v;
  }
  // What runs is what is in memory: it must be what was analysed.
  if (env.live) v.refusal = live_code_refusal(isa, s, a->insn, *env.live);
  if (v.refusal.empty() && a->plan->slot_code().size() > isa.slot_size())
    v.refusal = fmt::format("its slot code needs {} bytes, more than {}", a->plan->slot_code().size(), isa.slot_size());
  if (!v.refusal.empty()) v.plan.analysis.plan.reset();
  return v;
}

}  // namespace uptrace::core
