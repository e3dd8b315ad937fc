#include "arch/aarch64/jump.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "arch/aarch64/aarch64_isa.h"
#include "arch/aarch64/boost.h"
#include "arch/aarch64/encoding.h"
#include "arch/aarch64/plans.h"
#include "arch/aarch64/registers.h"
#include "common/ring_layout.h"

namespace uptrace::arch::aarch64 {
namespace {

// The registers the trampoline uses, saved at [sp + 8 * index] in this
// order; every other register keeps its value at the site throughout.
constexpr uint8_t kSaved[] = {0, 1, 2, 3, 4, 8};
constexpr uint32_t kFrame = 48;  // sizeof kSaved words, a multiple of 16 (sp stays aligned)
constexpr uint8_t kSp31 = 31;    // sp (or xzr) in a register field
constexpr uint32_t kGettid = 178;  // arm64's SYS_gettid (asm-generic)

// --- A64 encodings (each checked against aarch64-linux-gnu-objdump in
// tests/unit/arch/aarch64/test_jump.cpp) ---------------------------------

uint32_t stp_pre(uint8_t t1, uint8_t t2, int32_t offset) {  // stp xT1, xT2, [sp, #offset]!
  return 0xa9800000 | (static_cast<uint32_t>(offset / 8) & 0x7f) << 15 | uint32_t{t2} << 10 | kSp31 << 5 | t1;
}
uint32_t stp(uint8_t t1, uint8_t t2, int32_t offset) {  // stp xT1, xT2, [sp, #offset]
  return 0xa9000000 | (static_cast<uint32_t>(offset / 8) & 0x7f) << 15 | uint32_t{t2} << 10 | kSp31 << 5 | t1;
}
uint32_t ldp(uint8_t t1, uint8_t t2, int32_t offset) {  // ldp xT1, xT2, [sp, #offset]
  return 0xa9400000 | (static_cast<uint32_t>(offset / 8) & 0x7f) << 15 | uint32_t{t2} << 10 | kSp31 << 5 | t1;
}
uint32_t ldp_post(uint8_t t1, uint8_t t2, int32_t offset) {  // ldp xT1, xT2, [sp], #offset
  return 0xa8c00000 | (static_cast<uint32_t>(offset / 8) & 0x7f) << 15 | uint32_t{t2} << 10 | kSp31 << 5 | t1;
}
uint32_t ldr(uint8_t t, uint8_t n, uint32_t offset) {  // ldr xT, [xN, #offset]
  return 0xf9400000 | (offset / 8) << 10 | uint32_t{n} << 5 | t;
}
uint32_t str(uint8_t t, uint8_t n, uint32_t offset) {  // str xT, [xN, #offset]
  return 0xf9000000 | (offset / 8) << 10 | uint32_t{n} << 5 | t;
}
uint32_t ldar(uint8_t t, uint8_t n) { return 0xc8dffc00 | uint32_t{n} << 5 | t; }
uint32_t ldaxr(uint8_t t, uint8_t n) { return 0xc85ffc00 | uint32_t{n} << 5 | t; }
uint32_t stlxr(uint8_t s, uint8_t t, uint8_t n) { return 0xc800fc00 | uint32_t{s} << 16 | uint32_t{n} << 5 | t; }
uint32_t stlr(uint8_t t, uint8_t n) { return 0xc89ffc00 | uint32_t{n} << 5 | t; }
uint32_t add_imm(uint8_t d, uint8_t n, uint32_t imm12, bool shift12 = false) {
  return 0x91000000 | uint32_t{shift12} << 22 | imm12 << 10 | uint32_t{n} << 5 | d;
}
uint32_t add_lsl(uint8_t d, uint8_t n, uint8_t m, uint32_t shift) {  // add xD, xN, xM, lsl #shift
  return 0x8b000000 | uint32_t{m} << 16 | shift << 10 | uint32_t{n} << 5 | d;
}
uint32_t sub(uint8_t d, uint8_t n, uint8_t m) { return 0xcb000000 | uint32_t{m} << 16 | uint32_t{n} << 5 | d; }
uint32_t lsr(uint8_t d, uint8_t n, uint32_t shift) {  // ubfm xD, xN, #shift, #63
  return 0xd340fc00 | shift << 16 | uint32_t{n} << 5 | d;
}
uint32_t and_low_ones(uint8_t d, uint8_t n, uint32_t ones) {  // and xD, xN, #(1 << ones) - 1
  return 0x92400000 | (ones - 1) << 10 | uint32_t{n} << 5 | d;
}
uint32_t orr_bit63(uint8_t d, uint8_t n) {  // orr xD, xN, #0x8000000000000000
  return 0xb2410000 | uint32_t{n} << 5 | d;
}
uint32_t mov(uint8_t d, uint8_t m) { return 0xaa0003e0 | uint32_t{m} << 16 | d; }  // orr xD, xzr, xM
uint32_t movz(uint8_t d, uint16_t imm, unsigned hw) { return 0xd2800000 | hw << 21 | uint32_t{imm} << 5 | d; }
uint32_t movk(uint8_t d, uint16_t imm, unsigned hw) { return 0xf2800000 | hw << 21 | uint32_t{imm} << 5 | d; }
constexpr uint32_t kMrsCntvct = 0xd53be040;  // mrs x0, cntvct_el0
constexpr uint32_t kSvc0 = 0xd4000001;
constexpr uint32_t kB = 0x14000000;
uint32_t cbnz_x(uint8_t t) { return 0xb5000000 | t; }
uint32_t cbnz_w(uint8_t t) { return 0x35000000 | t; }

// The trampoline's words, with forward branches patched when their target
// is known.
class Words {
 public:
  explicit Words(uint64_t at) : at_(at) {}
  size_t put(uint32_t w) {
    words_.push_back(w);
    return words_.size() - 1;
  }
  size_t size() const { return words_.size(); }
  uint64_t here() const { return at_ + kInsnSize * words_.size(); }
  uint64_t address_of(size_t index) const { return at_ + kInsnSize * index; }
  // Points the branch at `index` (b, or cbnz with its imm19) to `target`, an index.
  void bind(size_t index, size_t target) {
    const int64_t offset = (static_cast<int64_t>(target) - static_cast<int64_t>(index)) * int64_t{kInsnSize};
    const uint32_t w = words_[index];
    words_[index] = with_branch_offset(w, (w & 0xfc000000) == kB ? BranchForm::Imm26 : BranchForm::Imm19, offset);
  }
  // movz/movk: the fewest that make `value` in xD.
  void mov_imm(uint8_t d, uint64_t value) {
    put(movz(d, static_cast<uint16_t>(value), 0));
    for (unsigned hw = 1; hw < 4; ++hw)
      if (uint16_t part = static_cast<uint16_t>(value >> (16 * hw))) put(movk(d, part, hw));
  }
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out;
    for (uint32_t w : words_) {
      const auto b = word_bytes(w);
      out.insert(out.end(), b.begin(), b.end());
    }
    return out;
  }

 private:
  uint64_t at_;
  std::vector<uint32_t> words_;
};

// Loads register word `word`'s value at the site into x8; false for a word
// the trampoline cannot record (pstate).
bool load_site_word(Words& c, uint16_t word, uint64_t site) {
  if (word <= 30) {
    const auto* saved = std::find(std::begin(kSaved), std::end(kSaved), word);
    if (saved != std::end(kSaved)) c.put(ldr(8, kSp31, static_cast<uint32_t>(8 * (saved - std::begin(kSaved)))));
    else c.put(mov(8, static_cast<uint8_t>(word)));
    return true;
  }
  if (word == kSp) {
    c.put(add_imm(8, kSp31, kFrame));
    return true;
  }
  if (word == kPc) {
    c.mov_imm(8, site);
    return true;
  }
  return false;
}

void restore(Words& c) {
  c.put(ldp(4, 8, 32));
  c.put(ldp(2, 3, 16));
  c.put(ldp_post(0, 1, kFrame));
}

// Why the instruction cannot be displaced into a trampoline, or "".
std::string not_displaceable(uint32_t word, const StepSpec& step) {
  constexpr uint32_t kPaciasp = 0xd503233f, kPacibsp = 0xd503237f;
  if ((word & 0xffffff3f) == 0xd503241f || word == kPaciasp || word == kPacibsp)
    return "a branch target landing pad (bti, paciasp, pacibsp) must stay at the site: on a guarded page an indirect "
           "branch to it faults on anything else";
  if (step.pc.kind != PcFixup::Kind::Relocate || step.scratch || step.rewrite_link)
    return "the instruction depends on its pc or leaves by a branch: jump on aarch64 displaces only instructions "
           "that run the same anywhere, and adr/adrp";
  return {};
}

}  // namespace

JumpPlan::JumpPlan(std::vector<uint8_t> trampoline, uint32_t site_branch, RuntimeAddr site, RuntimeAddr slot,
                   Layout layout, std::string description)
    : trampoline_(std::move(trampoline)),
      site_branch_(site_branch),
      site_(site),
      slot_(slot),
      layout_(std::move(layout)),
      description_(std::move(description)) {}

HitAction JumpPlan::begin_hit(Regs& regs, MemoryAccess&, StepState&) const {
  regs.words[kPc] = slot_.value;
  return HitAction::Resume;
}

void JumpPlan::finish_step(Regs&, MemoryAccess&, const StepState&) const {}
void JumpPlan::abort_step(Regs& regs, const StepState&) const { regs.words[kPc] = site_.value; }

std::optional<uint64_t> JumpPlan::original_pc(uint64_t pc) const {
  // Before anything is saved, after everything is restored, and on the way
  // back after a failed reservation, the thread is exactly as at the site.
  if (pc == slot_.value || pc == layout_.first_relocated || pc == layout_.back_to_site) return site_.value;
  return std::nullopt;
}

std::vector<uint8_t> JumpPlan::site_patch() const {
  const auto b = word_bytes(site_branch_);
  return {b.begin(), b.end()};
}

bool JumpPlan::is_ring_full_trap(RuntimeAddr trap) const {
  return std::find(layout_.full_traps.begin(), layout_.full_traps.end(), trap.value) != layout_.full_traps.end();
}

bool JumpPlan::follows_syscall(uint64_t pc) const {
  return std::find(layout_.syscall_ends.begin(), layout_.syscall_ends.end(), pc) != layout_.syscall_ends.end();
}

JumpBuild build_jump(uint32_t word, const StepSpec& step, const SiteContext& ctx, size_t slot_size) {
  if (!ctx.jump) return {nullptr, ctx.jump_unavailable};
  if (ctx.step != StepMechanism::HardwareStep)
    return {nullptr, "a thread in a free-running slot could not be stepped out without hardware single-step"};
  if (std::string why = not_displaceable(word, step); !why.empty()) return {nullptr, why};
  const JumpContext& jump = *ctx.jump;
  const uint64_t site = ctx.site.value;
  const auto site_branch = b_to(site, ctx.slot.value);
  if (!site_branch) return {nullptr, "the trampoline is out of reach of the site (b reaches +-128 MiB)"};
  const uint64_t records = jump.records.size();
  if (records == 0) return {nullptr, "no probe records anything here"};
  if (jump.capacity < std::max<uint64_t>(records, 2) || !std::has_single_bit(jump.capacity) ||
      jump.capacity > (uint64_t{1} << 32))
    return {nullptr, fmt::format("a ring of {} records cannot take {} at once", jump.capacity, records)};
  for (const JumpRecordSpec& spec : jump.records) {
    if (spec.filter) return {nullptr, "a condition is not evaluated in an aarch64 trampoline yet: the probe stops"};
    if (spec.words.size() > ring::kMaxValues)
      return {nullptr,
              fmt::format("a probe records at most {} values in jump mode, not {}", ring::kMaxValues, spec.words.size())};
  }
  const uint32_t shift = static_cast<uint32_t>(std::countr_zero(jump.capacity));

  Words c(ctx.slot.value);
  JumpPlan::Layout layout;
  c.put(stp_pre(0, 1, -static_cast<int32_t>(kFrame)));
  c.put(stp(2, 3, 16));
  c.put(stp(4, 8, 32));
  c.mov_imm(1, jump.ring.value);                              // x1 = the ring
  const size_t retry = c.put(add_imm(2, 1, ring::kTailOffset));  // x2 = &tail
  c.put(ldar(2, 2));                                          // tail first, then head
  c.put(ldaxr(3, 1));                                         // x3 = head
  c.put(sub(4, 3, 2));                                        // x4 = records in use
  if (records > 1) c.put(add_imm(4, 4, static_cast<uint32_t>(records - 1)));
  c.put(lsr(4, 4, shift));
  const size_t to_full = c.put(cbnz_x(4));                    // no room for them all: wait
  c.put(add_imm(4, 3, static_cast<uint32_t>(records)));
  c.put(stlxr(2, 4, 1));                                      // head += records
  const size_t to_abandon = c.put(cbnz_w(2));
  // Reserved: head's old value (x3) is the first record's sequence.
  c.put(kMrsCntvct | 2);                                      // x2 = the time
  c.put(movz(8, kGettid, 0));
  c.put(kSvc0);                                               // x0 = the thread id
  layout.syscall_ends.push_back(c.here());
  c.put(orr_bit63(0, 0));                                     // tagged (ring::kTidTag)
  static_assert(ring::kTidTag == uint64_t{1} << 63);
  for (uint64_t i = 0; i < records; ++i) {
    const JumpRecordSpec& spec = jump.records[i];
    c.put(add_imm(4, 3, static_cast<uint32_t>(i)));
    c.put(and_low_ones(4, 4, shift));
    c.put(add_lsl(4, 1, 4, ring::kRecordShift));
    static_assert(ring::kRecordsOffset == 4096, "added as #1, lsl #12");
    c.put(add_imm(4, 4, 1, true));                            // x4 = the record
    c.put(str(2, 4, ring::kRecordOffsetTime));
    c.put(str(0, 4, ring::kRecordOffsetThread));
    static_assert(ring::kRecordOffsetCount == ring::kRecordOffsetProbe + 4, "probe and count are stored as one word");
    c.mov_imm(8, spec.probe | static_cast<uint64_t>(spec.words.size()) << 32);
    c.put(str(8, 4, ring::kRecordOffsetProbe));
    for (size_t v = 0; v < spec.words.size(); ++v) {
      if (!load_site_word(c, spec.words[v], site))
        return {nullptr, "a fetch argument names a register a trampoline cannot record"};
      c.put(str(8, 4, static_cast<uint32_t>(ring::kRecordOffsetValues + 8 * v)));
    }
    c.put(add_imm(8, 3, static_cast<uint32_t>(i + 1)));       // the commit word: sequence + 1
    c.put(stlr(8, 4));                                        // published
  }
  const size_t to_done = c.put(kB);
  // A full ring never drops the hit: the trap stops the thread until
  // uptrace has drained the ring, then it tries again.
  c.bind(to_full, c.size());
  layout.full_traps.push_back(c.here());
  c.put(kBreakpointWord);
  c.bind(c.put(kB), retry);
  c.bind(to_abandon, c.size());
  restore(c);
  layout.back_to_site = c.here();
  const auto again = b_to(c.here(), site);
  if (!again) return {nullptr, "the site is out of reach of the trampoline's end (b reaches +-128 MiB)"};
  c.put(*again);
  c.bind(to_done, c.size());
  restore(c);
  layout.first_relocated = c.here();
  // adr/adrp: the site's value, known now, instead of one relative to
  // the trampoline (movz/movk cannot fault, so a thread is never stopped
  // in them by its own doing).
  if (step.result_delta) c.mov_imm(step.result_delta->first, step.result_value);
  else c.put(word);
  const auto back = b_to(c.here(), site + kInsnSize);
  if (!back) return {nullptr, "the branch back is out of reach of the trampoline (b reaches +-128 MiB)"};
  c.put(*back);
  if (c.size() * kInsnSize > slot_size)
    return {nullptr, fmt::format("the trampoline needs {} bytes, more than a slot's {}", c.size() * kInsnSize, slot_size)};

  std::string description = "the instruction at the site becomes a b to a trampoline that records";
  description += records == 1 ? " the hit" : fmt::format(" {} hits", records);
  description += step.result_delta
                     ? fmt::format(" without stopping (thread named by gettid), sets x{} = {:#x} (the site's value) "
                                   "and branches back to {:#x}",
                                   step.result_delta->first, step.result_value, site + kInsnSize)
                     : fmt::format(" without stopping (thread named by gettid), runs the displaced instruction and "
                                   "branches back to {:#x}",
                                   site + kInsnSize);
  return {std::make_unique<JumpPlan>(c.bytes(), *site_branch, ctx.site, ctx.slot, std::move(layout),
                                     std::move(description)),
          {}};
}

}  // namespace uptrace::arch::aarch64
