#include "arch/ppc64le/jump.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "arch/ppc64le/boost.h"
#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/jump_code.h"
#include "arch/ppc64le/jump_filter.h"
#include "arch/ppc64le/ppc64le_isa.h"
#include "arch/ppc64le/registers.h"
#include "common/ring_layout.h"

namespace uptrace::arch::ppc64le {
namespace {

using namespace p64;

constexpr int32_t kGettid = 207;  // ppc64's SYS_gettid
// The trampoline's own registers, all among those saved (jump_code.h).
// r9 is kValue (jump_code.h). With conditions, r11 holds the kept records
// (a bit each) and r12 how many, then the next kept record's sequence.
constexpr uint8_t kThreadPointerReg = 13;  // ELFv2
constexpr uint8_t kTid = 3, kRing = 4, kTail = 5, kHead = 6, kRecord = 7, kTime = 8, kMask = 11, kKept = 12;

void save(Words& c) {
  c.put(addi(1, 1, -kFrame));
  c.put(std_(0, 1, gpr_slot(0)));
  for (uint8_t r = 3; r <= 12; ++r) c.put(std_(r, 1, gpr_slot(r)));
  c.put(mfcr(3));
  c.put(std_(3, 1, kCrSlot));
  c.put(mfspr(3, kSprCtr));
  c.put(std_(3, 1, kCtrSlot));
  c.put(mfspr(3, kSprXer));
  c.put(std_(3, 1, kXerSlot));
}

void restore(Words& c) {
  c.put(ld(3, 1, kCrSlot));
  c.put(mtcr(3));
  c.put(ld(3, 1, kCtrSlot));
  c.put(mtspr(kSprCtr, 3));
  c.put(ld(3, 1, kXerSlot));
  c.put(mtspr(kSprXer, 3));
  c.put(ld(0, 1, gpr_slot(0)));
  for (uint8_t r = 3; r <= 12; ++r) c.put(ld(r, 1, gpr_slot(r)));
  c.put(addi(1, 1, kFrame));
}

// A b from the trampoline at c.here() to `to`, or (an absolute target
// within reach of address 0) a ba; false when neither reaches.
bool branch_to(Words& c, uint64_t to) {
  if (const auto b = b_to(c.here(), to)) {
    c.put(*b);
    return true;
  }
  if (const auto a = b_to(0, to)) {
    c.put(*a | kAbsoluteBit);
    return true;
  }
  return false;
}

// The displaced instruction in the trampoline at c.here(), and the way
// back; or why not. Registers are the site's here, but for LR, already
// the site's next instruction when the displaced branch sets it (LK).
std::string relocate(Words& c, const Displaced& d, uint64_t site, std::string& how) {
  const uint64_t next = site + d.length;
  const std::string out_of_reach = "a branch from the trampoline is out of reach (b reaches +-32 MiB)";
  const std::string link = link_bit(d.word) ? fmt::format("sets LR = {:#x} and ", next) : "";
  switch (d.branch) {
    case Displaced::Branch::None:
      // addpcis/pla: the site's value, known now, instead of one relative to
      // the trampoline (li/lis/ori/sldi/oris cannot fault, so a thread is
      // never stopped in them by its own doing).
      if (d.value) {
        c.mov_imm(d.value->first, d.value->second);
        how = fmt::format("sets r{} = {:#x} (the site's value) and branches back to {:#x}", d.value->first,
                          d.value->second, next);
      } else if (d.suffix) {
        // A prefixed instruction may not cross a 64-byte boundary (the slot
        // is 64-byte aligned): a nop first when it would.
        if (c.here() % kPrefixBoundary == kPrefixBoundary - kWordSize) c.put(kNop);
        c.put(d.word);
        c.put(*d.suffix);
        how = fmt::format("runs the displaced instruction and branches back to {:#x}", next);
      } else {
        c.put(d.word);
        how = fmt::format("runs the displaced instruction and branches back to {:#x}", next);
      }
      return branch_to(c, next) ? "" : "the branch back is out of reach of the trampoline (b reaches +-32 MiB)";
    case Displaced::Branch::Relative: {  // b, ba, bl, bla
      const uint64_t target = branch_target(d.word, site);
      how = link + fmt::format("branches to {:#x} (the displaced {})", target, link.empty() ? "b" : "bl");
      return branch_to(c, target) ? "" : out_of_reach;
    }
    case Displaced::Branch::Conditional: {
      // The same bc (BO, BI: the same condition, the same CTR decrement),
      // without LK and AA, 8 bytes on when taken: past the b back, to a b to
      // the target.
      const uint64_t target = branch_target(d.word, site);
      c.put((d.word & ~uint32_t{0xffff}) | 8);
      how = link + fmt::format("branches to {:#x} if the displaced bc is taken, else back to {:#x}", target, next);
      return branch_to(c, next) && branch_to(c, target) ? "" : out_of_reach;
    }
    case Displaced::Branch::ToLr:  // bclr (LK=0: bclrl is refused before)
    case Displaced::Branch::ToCtrOrTar:
      // The target is a register's, the same anywhere; not taken, the
      // thread goes back (BO 1z1zz: always taken).
      c.put(d.word & ~kLinkBit);
      if ((rt(d.word) & 0x14) == 0x14) {
        how = link + "runs the displaced branch to a register";
        return "";
      }
      how = link + fmt::format("runs the displaced branch to a register if taken, else branches back to {:#x}", next);
      return branch_to(c, next) ? "" : "the branch back is out of reach of the trampoline (b reaches +-32 MiB)";
  }
  return "unknown branch kind";
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
  regs.words[kNip] = slot_.value;
  return HitAction::Resume;
}

void JumpPlan::finish_step(Regs&, MemoryAccess&, const StepState&) const {}
void JumpPlan::abort_step(Regs& regs, const StepState&) const { regs.words[kNip] = site_.value; }

std::optional<uint64_t> JumpPlan::original_pc(uint64_t pc) const {
  // Before anything is saved, after everything is restored (not for a
  // displaced call, whose LR is set before), waiting for room, and on the
  // way back after a failed reservation, the thread is exactly as at the
  // site.
  if (pc == slot_.value || (layout_.first_relocated != 0 && pc == layout_.first_relocated) ||
      std::find(layout_.at_site.begin(), layout_.at_site.end(), pc) != layout_.at_site.end())
    return site_.value;
  return std::nullopt;
}

std::vector<uint8_t> JumpPlan::site_patch() const {
  const auto b = word_bytes(site_branch_);
  return {b.begin(), b.end()};
}

bool JumpPlan::is_ring_full_trap(RuntimeAddr trap) const {
  return std::find(layout_.full_traps.begin(), layout_.full_traps.end(), trap.value) != layout_.full_traps.end();
}

JumpBuild build_jump(const Displaced& displaced, const std::string& why_not_displaced, const SiteContext& ctx,
                     size_t slot_size) {
  if (!ctx.jump) return {nullptr, ctx.jump_unavailable};
  if (ctx.step != StepMechanism::HardwareStep)
    return {nullptr, "a thread in a free-running slot could not be stepped out without hardware single-step"};
  if (!why_not_displaced.empty()) return {nullptr, why_not_displaced};
  const JumpContext& jump = *ctx.jump;
  const uint64_t site = ctx.site.value;
  const auto site_branch = b_to(site, ctx.slot.value);
  if (!site_branch) return {nullptr, "the trampoline is out of reach of the site (b reaches +-32 MiB)"};
  const uint64_t records = jump.records.size();
  if (records == 0) return {nullptr, "no probe records anything here"};
  if (jump.capacity < std::max<uint64_t>(records, 2) || !std::has_single_bit(jump.capacity) ||
      jump.capacity > (uint64_t{1} << 32))
    return {nullptr, fmt::format("a ring of {} records cannot take {} at once", jump.capacity, records)};
  // Conditions are evaluated first, each kept record a bit in r11 and one
  // more in r12, so the records kept are reserved together and written
  // with no gap, a thread sent back to the site by a failed stdcx. has
  // written nothing, and a hit no probe keeps makes no system call.
  const bool filtered = std::any_of(jump.records.begin(), jump.records.end(),
                                    [](const JumpRecordSpec& spec) { return spec.filter.has_value(); });
  if (filtered && records > 32) return {nullptr, "more than 32 probes with conditions at one site"};
  for (const JumpRecordSpec& spec : jump.records) {
    if (spec.words.size() > ring::kMaxValues)
      return {nullptr,
              fmt::format("a probe records at most {} values in jump mode, not {}", ring::kMaxValues, spec.words.size())};
  }
  const auto shift = static_cast<unsigned>(std::countr_zero(jump.capacity));

  Words c(ctx.slot.value);
  JumpPlan::Layout layout;
  save(c);
  Words::Label none_kept;
  if (filtered) {
    c.put(li(kMask, 0));
    c.put(li(kKept, 0));
    for (uint64_t i = 0; i < records; ++i) {
      Words::Label filtered_out;
      std::string why_not;
      if (const auto& f = jump.records[i].filter; f && !emit_jump_filter(c, *f, site, filtered_out, why_not))
        return {nullptr, why_not};
      c.put(i < 16 ? ori(kMask, kMask, static_cast<uint16_t>(1u << i))
                   : oris(kMask, kMask, static_cast<uint16_t>(1u << (i - 16))));
      c.put(addi(kKept, kKept, 1));
      c.bind(filtered_out);
    }
    c.put(cmpdi(kKept, 0));
    c.put(kBeq, none_kept);
  }
  // The thread, as the ring's mode word says (ring::ThreadIdMode), before
  // the ring (the system call may change r0 and r4-r12): 0 while some
  // thread has no thread pointer yet, r13 itself, or the kernel's thread id
  // (also where r13 is 0), tagged.
  static_assert(ring::kNoThreadIds == 0 && ring::kSelfPointer == 1 && ring::kKernelTid == 2);
  Words::Label named, kernel_tid;
  c.mov_imm(kRing, jump.ring.value);
  c.put(ld(kTid, kRing, ring::kThreadIdsOffset));
  c.put(cmpdi(kTid, 0));
  c.put(kBeq, named);  // no ids: 0
  c.put(cmpdi(kTid, static_cast<int16_t>(ring::kKernelTid)));
  c.put(kBeq, kernel_tid);
  c.put(or_(kTid, kThreadPointerReg, kThreadPointerReg, true));  // mr. r3, r13
  c.put(kBne, named);
  c.bind(kernel_tid);
  if (filtered) {
    c.put(std_(kMask, 1, kMaskSlot));  // across the sc
    c.put(std_(kKept, 1, kCountSlot));
  }
  c.put(li(0, kGettid));
  c.put(kSc);
  c.put(li(kValue, 1));
  c.put(sldi(kValue, kValue, 63));
  c.put(or_(kTid, kTid, kValue));  // tagged (ring::kTidTag)
  static_assert(ring::kTidTag == uint64_t{1} << 63);
  if (filtered) {
    c.put(ld(kMask, 1, kMaskSlot));
    c.put(ld(kKept, 1, kCountSlot));
  }
  c.mov_imm(kRing, jump.ring.value);
  c.bind(named);
  c.put(ld(kTail, kRing, ring::kTailOffset));  // tail first, then head
  c.put(kLwsync);
  c.put(ldarx(kHead, 0, kRing));
  c.put(subf(kRecord, kTail, kHead));  // records in use
  if (filtered) {
    c.put(add(kRecord, kRecord, kKept));
    c.put(addi(kRecord, kRecord, -1));
  } else if (records > 1) {
    c.put(addi(kRecord, kRecord, static_cast<int32_t>(records - 1)));
  }
  c.put(srdi_dot(kRecord, kRecord, shift));
  Words::Label full, abandon, done;
  c.put(kBne, full);  // no room for them all: wait
  c.put(filtered ? add(kRecord, kHead, kKept) : addi(kRecord, kHead, static_cast<int32_t>(records)));
  c.put(stdcx(kRecord, 0, kRing));  // head += records
  c.put(kBne, abandon);
  // Reserved: head's old value is the first record's sequence.
  c.put(mfspr(kTime, kSprTb));
  static_assert(ring::kRecordsOffset == 4096 && ring::kRecordShift == 6);
  if (filtered) c.put(mr(kKept, kHead));  // the next kept record's sequence
  for (uint64_t i = 0; i < records; ++i) {
    const JumpRecordSpec& spec = jump.records[i];
    Words::Label not_kept;
    if (filtered) {
      c.put(rldicl(0, kMask, static_cast<unsigned>((64 - i) % 64), 63, true));  // bit i, into CR0
      c.put(kBeq, not_kept);
    }
    c.put(filtered ? addi(kRecord, kKept, 0) : addi(kRecord, kHead, static_cast<int32_t>(i)));
    c.put(rldic(kRecord, kRecord, ring::kRecordShift, 64 - ring::kRecordShift - shift));  // (seq mod capacity) * 64
    c.put(add(kRecord, kRecord, kRing));
    c.put(addi(kRecord, kRecord, static_cast<int32_t>(ring::kRecordsOffset)));
    c.put(std_(kTime, kRecord, ring::kRecordOffsetTime));
    c.put(std_(kTid, kRecord, ring::kRecordOffsetThread));
    static_assert(ring::kRecordOffsetCount == ring::kRecordOffsetProbe + 4, "probe and count are stored as one word");
    c.mov_imm(kValue, spec.probe | static_cast<uint64_t>(spec.words.size()) << 32);
    c.put(std_(kValue, kRecord, ring::kRecordOffsetProbe));
    for (size_t v = 0; v < spec.words.size(); ++v) {
      if (!load_site_word(c, spec.words[v], site))
        return {nullptr, "a fetch argument names a register a trampoline cannot record"};
      c.put(std_(kValue, kRecord, static_cast<int32_t>(ring::kRecordOffsetValues + 8 * v)));
    }
    // The commit word, sequence + 1, published last.
    c.put(filtered ? addi(kValue, kKept, 1) : addi(kValue, kHead, static_cast<int32_t>(i + 1)));
    c.put(kLwsync);
    c.put(std_(kValue, kRecord, ring::kRecordOffsetCommit));
    if (filtered) {
      c.put(addi(kKept, kKept, 1));
      c.bind(not_kept);
    }
  }
  c.put(kB, done);
  // A full ring never drops the hit: the thread restores what it saved and
  // stops at a trap until uptrace has drained the ring, then goes back to
  // the site and enters anew. Waiting there, it stands as at the site, so
  // a signal or a detach that finds it waiting moves it to the site with
  // no single step (some 40 through the save and the restore otherwise).
  auto enter_again = [&] {
    const auto again = b_to(c.here(), site);
    if (!again) return false;
    layout.at_site.push_back(c.here());
    c.put(*again);
    return true;
  };
  constexpr std::string_view kSiteOutOfReach = "the site is out of reach of the trampoline's end (b reaches +-32 MiB)";
  c.bind(full);
  restore(c);
  layout.full_traps.push_back(c.here());
  layout.at_site.push_back(c.here());
  c.put(kBreakpointWord);
  if (!enter_again()) return {nullptr, std::string(kSiteOutOfReach)};
  c.bind(abandon);
  restore(c);
  if (!enter_again()) return {nullptr, std::string(kSiteOutOfReach)};
  c.bind(done);
  c.bind(none_kept);
  // A call's LR, the site's next instruction, set while r3 is still the
  // trampoline's: from here on the thread stands as past the displaced
  // call, at no address of its own until it branches out.
  const uint64_t next = site + displaced.length;
  const bool links = displaced.branch != Displaced::Branch::None && link_bit(displaced.word);
  if (links) {
    c.mov_imm(3, next);
    c.put(mtspr(kSprLr, 3));
  }
  restore(c);
  if (!links) layout.first_relocated = c.here();
  std::string how;
  if (std::string why = relocate(c, displaced, site, how); !why.empty()) return {nullptr, why};
  if (c.size() * kWordSize > slot_size)
    return {nullptr, fmt::format("the trampoline needs {} bytes, more than a slot's {}", c.size() * kWordSize, slot_size)};

  std::string description = "the instruction at the site becomes a b to a trampoline that records";
  description += records == 1 ? " the hit" : fmt::format(" {} hits", records);
  if (filtered) description += records == 1 ? " (when its condition holds)" : " (each when its condition holds)";
  description += " without stopping (thread named by r13, or gettid), " + how;
  return {std::make_unique<JumpPlan>(c.bytes(), *site_branch, ctx.site, ctx.slot, std::move(layout),
                                     std::move(description)),
          {}};
}

}  // namespace uptrace::arch::ppc64le
