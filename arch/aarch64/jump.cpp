#include "arch/aarch64/jump.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "arch/aarch64/aarch64_isa.h"
#include "arch/aarch64/analyzer.h"
#include "arch/aarch64/boost.h"
#include "arch/aarch64/encoding.h"
#include "arch/aarch64/jump_code.h"
#include "arch/aarch64/jump_filter.h"
#include "arch/aarch64/plans.h"
#include "arch/aarch64/registers.h"
#include "common/ring_layout.h"

namespace uptrace::arch::aarch64 {
namespace {

using namespace a64;

constexpr uint32_t kGettid = 178;  // arm64's SYS_gettid (asm-generic)

void restore(Words& c, uint32_t frame) {
  if (frame == kFilterFrame) {
    c.put(ldr(0, kSp31, kNzcvSlot));
    c.put(kMsrNzcv);
    c.put(ldp(5, 6, 48));
  }
  c.put(ldp(4, 8, 32));
  c.put(ldp(2, 3, 16));
  c.put(ldp_post(0, 1, static_cast<int32_t>(frame)));
}

constexpr uint32_t kBlrMask = 0xfffffc1f, kBlr = 0xd63f0000, kBr = 0xd61f0000;
constexpr uint8_t kLinkRegister = 30;

uint8_t rn(uint32_t word) { return static_cast<uint8_t>((word >> 5) & 31); }

// Why the instruction cannot be displaced into a trampoline, or "".
std::string not_displaceable(uint32_t word, const StepSpec& step) {
  constexpr uint32_t kPaciasp = 0xd503233f, kPacibsp = 0xd503237f;
  if ((word & 0xffffff3f) == 0xd503241f || word == kPaciasp || word == kPacibsp)
    return "a branch target landing pad (bti, paciasp, pacibsp) must stay at the site: on a guarded page an indirect "
           "branch to it faults on anything else";
  if (step.scratch)
    return "a literal load depends on its pc: jump on aarch64 displaces instructions that run the same anywhere, "
           "adr/adrp and branches";
  // blr xN (N != 30) becomes x30 = site + 4 and br xN; blraa and the like
  // would sign the trampoline's return address, and blr x30 reads the x30
  // it would write.
  if (step.pc.kind == PcFixup::Kind::Keep && step.rewrite_link && ((word & kBlrMask) != kBlr || rn(word) == kLinkRegister))
    return "an authenticated call, or blr x30, cannot be displaced: the return address it sets is its own pc's";
  return {};
}

// The displaced instruction in the trampoline at c.here(), and the way
// back; or why not. Registers are the site's again here.
std::string relocate(Words& c, uint32_t word, const StepSpec& step, uint64_t site, std::string& how) {
  const uint64_t next = site + kInsnSize;
  auto branch = [&](uint64_t to) {
    auto b = b_to(c.here(), to);
    if (b) c.put(*b);
    return b.has_value();
  };
  constexpr const char* kOutOfReach = "a branch from the trampoline is out of reach (b reaches +-128 MiB)";
  switch (step.pc.kind) {
    case PcFixup::Kind::Relocate:
      // adr/adrp: the site's value, known now, instead of one relative to
      // the trampoline (movz/movk cannot fault, so a thread is never stopped
      // in them by its own doing).
      if (step.result_delta) {
        c.mov_imm(step.result_delta->first, step.result_value);
        how = fmt::format("sets x{} = {:#x} (the site's value) and branches back to {:#x}", step.result_delta->first,
                          step.result_value, next);
      } else {
        c.put(word);
        how = fmt::format("runs the displaced instruction and branches back to {:#x}", next);
      }
      return branch(next) ? "" : "the branch back is out of reach of the trampoline (b reaches +-128 MiB)";
    case PcFixup::Kind::Branch:
      if (step.rewrite_link) {  // bl: the callee returns to the site's next instruction
        c.mov_imm(kLinkRegister, next);
        how = fmt::format("sets x30 = {:#x} and branches to {:#x} (the displaced bl)", next, step.pc.taken);
        return branch(step.pc.taken) ? "" : kOutOfReach;
      }
      if (step.pc.taken == step.pc.not_taken) {  // b
        how = fmt::format("branches to {:#x} (the displaced b)", step.pc.taken);
        return branch(step.pc.taken) ? "" : kOutOfReach;
      }
      // b.cond, cbz, cbnz, tbz, tbnz: the step's copy branches 8 bytes on
      // when taken; here that is to a b to the target, past a b back.
      static_assert(kTakenOffsetInSlot == 2 * kInsnSize);
      if (step.code.size() != kInsnSize) return "the step's copy is not one instruction";
      c.put(uint32_t{step.code[0]} | uint32_t{step.code[1]} << 8 | uint32_t{step.code[2]} << 16 |
            uint32_t{step.code[3]} << 24);
      how = fmt::format("branches to {:#x} if the displaced branch is taken, else back to {:#x}", step.pc.taken, next);
      return branch(next) && branch(step.pc.taken) ? "" : kOutOfReach;
    case PcFixup::Kind::Keep:
      if (step.rewrite_link) {  // blr xN
        c.mov_imm(kLinkRegister, next);
        c.put(kBr | uint32_t{rn(word)} << 5);
        how = fmt::format("sets x30 = {:#x} and branches to x{} (the displaced blr)", next, rn(word));
        return "";
      }
      c.put(word);  // ret, br: pc comes from a register, the same anywhere
      how = "runs the displaced instruction, which leaves by its register";
      return "";
  }
  return "unknown pc fix-up";
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
  // Conditions are evaluated first, each kept record a bit in x5 and one
  // more in x6, so the records kept are reserved together and written
  // with no gap, and a thread sent back to the site by a failed stlxr has
  // written nothing.
  const bool filtered = std::any_of(jump.records.begin(), jump.records.end(),
                                    [](const JumpRecordSpec& spec) { return spec.filter.has_value(); });
  if (filtered && records > 32) return {nullptr, "more than 32 probes with conditions at one site"};
  for (const JumpRecordSpec& spec : jump.records)
    if (spec.words.size() > ring::kMaxValues)
      return {nullptr,
              fmt::format("a probe records at most {} values in jump mode, not {}", ring::kMaxValues, spec.words.size())};
  const uint32_t shift = static_cast<uint32_t>(std::countr_zero(jump.capacity));

  // sp moves first and stays 16-aligned; NZCV is saved only for the
  // conditions' compares (nothing else here touches the flags).
  const uint32_t frame = filtered ? kFilterFrame : kPlainFrame;
  Words c(ctx.slot.value);
  JumpPlan::Layout layout;
  c.put(stp_pre(0, 1, -static_cast<int32_t>(frame)));
  c.put(stp(2, 3, 16));
  c.put(stp(4, 8, 32));
  Words::Label none_kept;
  if (filtered) {
    c.put(stp(5, 6, 48));
    c.put(kMrsNzcv);
    c.put(str(0, kSp31, kNzcvSlot));
    c.put(movz(5, 0, 0));  // the kept records, by bit
    c.put(movz(6, 0, 0));  // how many
    for (uint64_t i = 0; i < records; ++i) {
      Words::Label filtered_out;
      std::string why_not;
      if (const auto& f = jump.records[i].filter; f && !emit_jump_filter(c, *f, site, frame, filtered_out, why_not))
        return {nullptr, why_not};
      c.put(orr_bit(5, 5, static_cast<unsigned>(i)));
      c.put(add_imm(6, 6, 1));
      c.bind(filtered_out);
    }
    c.put(cbz_x(6), none_kept);
  }
  c.mov_imm(1, jump.ring.value);                              // x1 = the ring
  const size_t retry = c.put(add_imm(2, 1, ring::kTailOffset));  // x2 = &tail
  c.put(ldar(2, 2));                                          // tail first, then head
  c.put(ldaxr(3, 1));                                         // x3 = head
  c.put(sub(4, 3, 2));                                        // x4 = records in use
  if (filtered) {
    c.put(add_lsl(4, 4, 6, 0));
    c.put(sub_imm(4, 4, 1));
  } else if (records > 1) {
    c.put(add_imm(4, 4, static_cast<uint32_t>(records - 1)));
  }
  c.put(lsr(4, 4, shift));
  const size_t to_full = c.put(cbnz_x(4));                    // no room for them all: wait
  c.put(filtered ? add_lsl(4, 3, 6, 0) : add_imm(4, 3, static_cast<uint32_t>(records)));
  c.put(stlxr(2, 4, 1));                                      // head += records
  const size_t to_abandon = c.put(cbnz_w(2));
  // Reserved: head's old value (x3) is the first record's sequence.
  c.put(kMrsCntvct | 2);                                      // x2 = the time
  // The thread, as the ring's mode word says (ring::ThreadIdMode), with
  // no flags touched: 0 while some thread has no thread pointer yet,
  // tpidr_el0, or the kernel's thread id (also where tpidr_el0 is 0).
  static_assert(ring::kNoThreadIds == 0 && ring::kSelfPointer == 1 && ring::kKernelTid == 2);
  Words::Label named, kernel_tid;
  c.put(ldr(0, 1, ring::kThreadIdsOffset));                   // x0 = the mode
  c.put(cbz_x(0), named);                                     // no ids: 0
  c.put(tbnz(0, 1), kernel_tid);                              // kKernelTid
  c.put(kMrsTpidr);                                           // x0 = tpidr_el0
  c.put(cbnz_x(0), named);
  c.bind(kernel_tid);
  c.put(movz(8, kGettid, 0));
  c.put(kSvc0);                                               // x0 = the thread id
  layout.syscall_ends.push_back(c.here());
  c.put(orr_bit63(0, 0));                                     // tagged (ring::kTidTag)
  static_assert(ring::kTidTag == uint64_t{1} << 63);
  c.bind(named);
  if (filtered) c.put(mov(6, 3));                             // x6 = the next record's sequence
  for (uint64_t i = 0; i < records; ++i) {
    const JumpRecordSpec& spec = jump.records[i];
    Words::Label not_kept;
    if (filtered) {
      c.put(tbz(5, static_cast<unsigned>(i)), not_kept);
      c.put(and_low_ones(4, 6, shift));
    } else {
      c.put(add_imm(4, 3, static_cast<uint32_t>(i)));
      c.put(and_low_ones(4, 4, shift));
    }
    c.put(add_lsl(4, 1, 4, ring::kRecordShift));
    static_assert(ring::kRecordsOffset == 4096, "added as #1, lsl #12");
    c.put(add_imm(4, 4, 1, true));                            // x4 = the record
    c.put(str(2, 4, ring::kRecordOffsetTime));
    c.put(str(0, 4, ring::kRecordOffsetThread));
    static_assert(ring::kRecordOffsetCount == ring::kRecordOffsetProbe + 4, "probe and count are stored as one word");
    c.mov_imm(8, spec.probe | static_cast<uint64_t>(spec.words.size()) << 32);
    c.put(str(8, 4, ring::kRecordOffsetProbe));
    for (size_t v = 0; v < spec.words.size(); ++v) {
      if (!load_site_word(c, spec.words[v], site, frame))
        return {nullptr, "a fetch argument names a register a trampoline cannot record"};
      c.put(str(8, 4, static_cast<uint32_t>(ring::kRecordOffsetValues + 8 * v)));
    }
    // The commit word, sequence + 1, published last.
    c.put(filtered ? add_imm(8, 6, 1) : add_imm(8, 3, static_cast<uint32_t>(i + 1)));
    c.put(stlr(8, 4));
    if (filtered) {
      c.put(add_imm(6, 6, 1));
      c.bind(not_kept);
    }
  }
  const size_t to_done = c.put(kB);
  // A full ring never drops the hit: the trap stops the thread until
  // uptrace has drained the ring, then it tries again.
  c.bind(to_full, c.size());
  layout.full_traps.push_back(c.here());
  c.put(kBreakpointWord);
  c.bind(c.put(kB), retry);
  c.bind(to_abandon, c.size());
  restore(c, frame);
  layout.back_to_site = c.here();
  const auto again = b_to(c.here(), site);
  if (!again) return {nullptr, "the site is out of reach of the trampoline's end (b reaches +-128 MiB)"};
  c.put(*again);
  c.bind(to_done, c.size());
  c.bind(none_kept);
  restore(c, frame);
  layout.first_relocated = c.here();
  std::string how;
  if (std::string why = relocate(c, word, step, site, how); !why.empty()) return {nullptr, why};
  if (c.size() * kInsnSize > slot_size)
    return {nullptr, fmt::format("the trampoline needs {} bytes, more than a slot's {}", c.size() * kInsnSize, slot_size)};

  std::string description = "the instruction at the site becomes a b to a trampoline that records";
  description += records == 1 ? " the hit" : fmt::format(" {} hits", records);
  if (filtered) description += records == 1 ? " (when its condition holds)" : " (each when its condition holds)";
  description += " without stopping, " + how;
  return {std::make_unique<JumpPlan>(c.bytes(), *site_branch, ctx.site, ctx.slot, std::move(layout),
                                     std::move(description)),
          {}};
}

}  // namespace uptrace::arch::aarch64
