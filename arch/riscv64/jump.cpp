#include "arch/riscv64/jump.h"

#include <algorithm>
#include <bit>

#include <fmt/format.h>

#include "arch/riscv64/boost.h"
#include "arch/riscv64/decoder.h"
#include "arch/riscv64/encoding.h"
#include "arch/riscv64/jump_code.h"
#include "arch/riscv64/jump_targets.h"
#include "arch/riscv64/registers.h"
#include "common/ring_layout.h"

namespace uptrace::arch::riscv64 {
namespace {

using namespace rv;

constexpr int64_t kGettid = 178;  // riscv's SYS_gettid (asm-generic)

// What the trampoline saves, at [sp + 8 * i] once sp has moved down by
// kFrame: the registers it writes (the ecall writes a0 and reads a7).
constexpr uint8_t kSaved[] = {kT0, kT1, kT2, kT3, kT4, kT5, kT6, kA0Reg, kA7Reg};
constexpr int64_t kFrame = 80;  // 9 words, 16-aligned

std::optional<int64_t> frame_slot(unsigned x) {
  for (size_t i = 0; i < std::size(kSaved); ++i)
    if (kSaved[i] == x) return static_cast<int64_t>(8 * i);
  return std::nullopt;
}

void restore(Code& c) {
  for (size_t i = 0; i < std::size(kSaved); ++i) c.put(ld(kSaved[i], kSpReg, static_cast<int64_t>(8 * i)));
  c.put(addi(kSpReg, kSpReg, kFrame));
}

// Why the instruction cannot be displaced into a trampoline, or "".
std::string not_displaceable(const Decoded& d) {
  if (!d.known()) return fmt::format("{} is an instruction uptrace does not know", d.insn.text);
  switch (d.row->cls) {
    case InsnClass::Plain:
    case InsnClass::Skip:
    case InsnClass::Auipc: return {};
    case InsnClass::Jal:
    case InsnClass::Jalr:
    case InsnClass::Branch:
      return fmt::format("{} transfers control: jump on riscv64 displaces only instructions that run the same "
                         "anywhere, and auipc",
                         d.name());
    default: return fmt::format("{} cannot be displaced into a trampoline", d.name());
  }
}

// Whether the instruction may fault (or trap): it touches memory, or is
// one of the system or float instructions (a float one with the dynamic
// rounding mode raises an illegal instruction when frm holds a reserved
// value). Integer arithmetic, lui, auipc and fences never do.
bool may_fault(const Decoded& d) {
  if (d.row->cls == InsnClass::Skip) return false;
  switch (opcode(d.word)) {
    case op::kOpImm:
    case op::kOpImm32:
    case op::kOp:
    case op::kOp32:
    case op::kLui:
    case op::kAuipc:
    case op::kMiscMem: return false;
    default: return true;
  }
}

// How the registers the instruction changed are put back as they were
// before it, from the registers after it alone: (register, amount to
// subtract) for addi rd, rd, imm (c.addi, c.addi16sp), (0, 0) for one that
// changes nothing (a nop); nullopt when they cannot be.
std::optional<std::pair<uint8_t, int64_t>> undo_of(const Decoded& d) {
  if (d.row->cls == InsnClass::Skip) return std::pair<uint8_t, int64_t>{0, 0};
  const uint32_t w = d.word;
  if (opcode(w) == op::kOpImm && funct3(w) == 0 && rd(w) == rs1(w))
    return std::pair<uint8_t, int64_t>{static_cast<uint8_t>(rd(w)), rd(w) == 0 ? 0 : imm_i(w)};
  return std::nullopt;
}

// The instructions a jal at the site displaces: the site's, and after a
// 2-byte one the next (the jal covers its start).
struct Displaced {
  std::vector<const Decoded*> insns;
  uint64_t length = 0;
  std::optional<std::pair<uint8_t, int64_t>> undo_first;  // when the second may fault
  std::string why_not;
};

Displaced displaced_at(const Decoded& d, const SiteContext& ctx, std::span<const Decoded> code) {
  Displaced out;
  if (std::string why = not_displaceable(d); !why.empty()) {
    out.why_not = std::move(why);
    return out;
  }
  out.insns.push_back(&d);
  out.length = d.insn.length;
  if (d.insn.length == 4) return out;
  // A 2-byte site: the 4-byte jal covers the next instruction's start too.
  const auto at = std::find_if(code.begin(), code.end(), [&](const Decoded& c) { return &c == &d; });
  if (at == code.end() || std::next(at) == code.end()) {
    out.why_not = "a 2-byte (compressed) instruction at the function's end: the 4-byte jal would cover what follows "
                  "the function";
    return out;
  }
  const Decoded& next = *std::next(at);
  if (std::string why = not_displaceable(next); !why.empty()) {
    out.why_not = fmt::format("a 2-byte (compressed) instruction, so the 4-byte jal would cover the next one too, "
                              "which cannot be displaced: {}",
                              why);
    return out;
  }
  if (may_fault(next)) {
    // A fault in the second is delivered with the thread as at the site
    // (the address between them is inside the jal): the first is undone.
    out.undo_first = undo_of(d);
    if (!out.undo_first) {
      out.why_not = fmt::format("a 2-byte (compressed) instruction, so the 4-byte jal would cover the next one too, "
                                "the {} at +{:#x}, which may fault; the fault would have to be delivered at the site "
                                "with the {} undone, which uptrace cannot do for it",
                                next.name(), next.insn.address - ctx.site, d.name());
      return out;
    }
  }
  out.insns.push_back(&next);
  out.length += next.insn.length;
  if (std::string why = arrival_inside(ctx, code, ctx.site.value, ctx.site.value + out.length); !why.empty()) {
    out.why_not = fmt::format("a 2-byte (compressed) instruction, so the 4-byte jal would cover the next one too, and "
                              "{}",
                              why);
    out.insns.clear();
  }
  return out;
}

// The copy of `d` at c.here(), as it runs at `d`'s own address.
void put_displaced(Code& c, const Decoded& d) {
  const uint64_t at = d.insn.address.value;
  if (d.row->cls == InsnClass::Auipc) {
    // The site's value, known now, instead of one relative to the
    // trampoline (lui/addiw/slli/addi cannot fault).
    if (rd(d.word) != 0) c.li(static_cast<uint8_t>(rd(d.word)), static_cast<int64_t>(at + imm_u(d.word)));
    else c.put(addi(kZero, kZero, 0));  // auipc zero: a hint, nothing to set
  } else if (d.insn.length == 2) {
    c.put_parcel(static_cast<uint16_t>(d.insn.bytes[0] | d.insn.bytes[1] << 8));
  } else {
    c.put(d.word);
  }
}

struct Emitted {
  std::vector<uint8_t> bytes;
  // Offsets from the form's start.
  uint64_t saved_end = 0, first_relocated = 0, second_relocated = 0, to_site = 0, after = 0, full = 0;
  std::string why_not;
};

// One form of the trampoline at `at`: the free-running one (stepped =
// false) or the stepped one, which differs only in its exits (jump.h).
Emitted emit(bool stepped, uint64_t at, const Displaced& displaced, const JumpContext& jump, uint64_t site) {
  Emitted out;
  Code c(at);
  const uint64_t records = jump.records.size();
  const unsigned shift = static_cast<unsigned>(std::countr_zero(jump.capacity));
  // Saved below sp before sp moves: until then nothing has changed.
  for (size_t i = 0; i < std::size(kSaved); ++i)
    c.put(sd(kSaved[i], kSpReg, static_cast<int64_t>(8 * i) - kFrame));
  out.saved_end = c.offset();
  c.put(addi(kSpReg, kSpReg, -kFrame));
  c.li(kT0, static_cast<int64_t>(jump.ring.value));  // t0 = the ring
  const uint64_t retry = c.offset();
  c.put(ld(kT1, kT0, ring::kTailOffset));  // t1 = tail, first
  c.put(fence(kR, kR | kW));                // before head, and before the records are written
  c.put(lr_d(kT2, kT0));                    // t2 = head
  c.put(sub(kT3, kT2, kT1));                // t3 = records in use
  if (records > 1) c.put(addi(kT3, kT3, static_cast<int64_t>(records - 1)));
  c.put(srli(kT3, kT3, shift));
  Code::Label full, abandon, done;
  c.put(bnez(kT3), Code::Form::B, full);  // no room for them all: wait
  c.put(addi(kT3, kT2, static_cast<int64_t>(records)));
  c.put(sc_d(kT4, kT3, kT0));  // head += records
  c.put(bnez(kT4), Code::Form::B, abandon);
  // Reserved: head's old value (t2) is the first record's sequence.
  c.put(rdtime(kT5));
  // t6 = the thread, as the ring's mode word says (ring::ThreadIdMode).
  Code::Label have_thread;
  c.put(ld(kT3, kT0, ring::kThreadIdsOffset));
  c.put(addi(kT6, kZero, 0));
  c.put(beqz(kT3), Code::Form::B, have_thread);
  c.put(addi(kT6, kTpReg, 0));
  c.put(addi(kT3, kT3, -1));
  c.put(beqz(kT3), Code::Form::B, have_thread);
  c.put(addi(kA7Reg, kZero, kGettid));
  c.put(kEcall);
  c.put(addi(kT6, kZero, -1));
  c.put(slli(kT6, kT6, 63));
  static_assert(ring::kTidTag == uint64_t{1} << 63);
  c.put(or_(kT6, kA0Reg, kT6));
  c.bind(have_thread);
  c.put(lui(kT1, static_cast<int64_t>(ring::kRecordsOffset)));
  static_assert(ring::kRecordsOffset == 4096, "made by lui 1");
  c.put(add(kT1, kT1, kT0));  // t1 = the records
  for (uint64_t i = 0; i < records; ++i) {
    const JumpRecordSpec& spec = jump.records[i];
    c.put(addi(kT4, kT2, static_cast<int64_t>(i)));
    c.put(slli(kT4, kT4, 64 - shift));
    c.put(srli(kT4, kT4, 64 - shift - ring::kRecordShift));
    c.put(add(kT4, kT4, kT1));  // t4 = the record
    c.put(sd(kT5, kT4, ring::kRecordOffsetTime));
    c.put(sd(kT6, kT4, ring::kRecordOffsetThread));
    static_assert(ring::kRecordOffsetCount == ring::kRecordOffsetProbe + 4, "probe and count are stored as one word");
    c.li(kT3, static_cast<int64_t>(spec.probe | static_cast<uint64_t>(spec.words.size()) << 32));
    c.put(sd(kT3, kT4, ring::kRecordOffsetProbe));
    for (size_t v = 0; v < spec.words.size(); ++v) {
      const uint16_t word = spec.words[v];
      const int64_t offset = static_cast<int64_t>(ring::kRecordOffsetValues + 8 * v);
      if (word >= kWordCount) {
        out.why_not = "a fetch argument names a register a trampoline cannot record";
        return out;
      }
      uint8_t from = static_cast<uint8_t>(word);
      if (word == kPc) {
        c.li(kT3, static_cast<int64_t>(site));
        from = kT3;
      } else if (word == kSp) {
        c.put(addi(kT3, kSpReg, kFrame));
        from = kT3;
      } else if (auto slot = frame_slot(word)) {
        c.put(ld(kT3, kSpReg, *slot));
        from = kT3;
      }
      c.put(sd(from, kT4, offset));
    }
    // The commit word, sequence + 1, published last.
    c.put(addi(kT3, kT2, static_cast<int64_t>(i + 1)));
    c.put(fence(kR | kW, kW));
    c.put(sd(kT3, kT4, ring::kRecordOffsetCommit));
  }
  c.put(jal0(), Code::Form::J, done);
  // A full ring never drops the hit: the trap stops the thread until
  // uptrace has drained the ring, then it tries again. A step cannot wait
  // there, so the stepped form leaves for the site instead.
  c.bind(full);
  out.full = c.offset();
  if (stepped) c.put_parcel(kCJ, Code::Form::CJ, abandon);
  else c.put_parcel(kCEbreakParcel);
  {
    Code::Label again;
    c.put(jal0(), Code::Form::J, again);
    c.bind(again, retry);
  }
  c.bind(abandon);
  restore(c);
  out.to_site = c.offset();
  if (stepped) {
    c.put_parcel(kCEbreakParcel);
    c.put_parcel(kCNop);
  } else {
    const auto back = jal_to(c.here(), site);
    if (!back) {
      out.why_not = "the site is out of reach of the trampoline's end (jal reaches +-1 MiB)";
      return out;
    }
    c.put(*back);
  }
  c.bind(done);
  restore(c);
  out.first_relocated = c.offset();
  put_displaced(c, *displaced.insns[0]);
  if (displaced.insns.size() > 1) {
    out.second_relocated = c.offset();
    put_displaced(c, *displaced.insns[1]);
  }
  out.after = c.offset();
  if (stepped) {
    c.put_parcel(kCEbreakParcel);
    c.put_parcel(kCNop);
  } else {
    const auto back = jal_to(c.here(), site + displaced.length);
    if (!back) {
      out.why_not = "the instruction after the site is out of reach of the trampoline (jal reaches +-1 MiB)";
      return out;
    }
    c.put(*back);
  }
  // The stepped form starts 4-byte aligned.
  if (c.offset() % 4) c.put_parcel(kCNop);
  out.bytes = c.bytes();
  return out;
}

}  // namespace

JumpPlan::JumpPlan(std::vector<uint8_t> trampoline, uint32_t site_jal, RuntimeAddr site, uint64_t length,
                   RuntimeAddr slot, Layout layout, std::optional<std::pair<uint8_t, int64_t>> undo_first,
                   std::string description)
    : trampoline_(std::move(trampoline)),
      site_jal_(site_jal),
      site_(site),
      length_(length),
      slot_(slot),
      layout_(layout),
      undo_first_(undo_first),
      description_(std::move(description)) {}

HitAction JumpPlan::begin_hit(Regs& regs, MemoryAccess&, StepState&) const {
  regs.words[kPc] = slot_.value;
  return HitAction::Resume;
}

void JumpPlan::finish_step(Regs& regs, MemoryAccess&, const StepState&) const {
  regs.words[kPc] = regs.words[kPc] == layout_.stepped_to_site ? site_.value : site_.value + length_;
}

// A fault in a step of the stepped form is one where the thread is as at
// the site (original_pc): in its saves, or in the (first) displaced
// instruction; or in the second displaced instruction (is_displaced_copy),
// where the first has run and is undone first: the fault is delivered at
// the site, the one original address the patched code has there.
void JumpPlan::abort_step(Regs& regs, const StepState&) const {
  const uint64_t pc = regs.words[kPc];
  if (layout_.second_relocated && undo_first_ && undo_first_->first != 0 &&
      (pc == layout_.second_relocated || pc == layout_.stepped + (layout_.second_relocated - slot_.value))) {
    const auto [reg, amount] = *undo_first_;
    write_x(regs, reg, read_x(regs, reg) - static_cast<uint64_t>(amount));
  }
  regs.words[kPc] = site_.value;
}

bool JumpPlan::is_displaced_copy(uint64_t pc) const {
  const uint64_t stepped_first = layout_.stepped + (layout_.first_relocated - slot_.value);
  if (pc == stepped_first) return true;
  return layout_.second_relocated && pc == layout_.stepped + (layout_.second_relocated - slot_.value);
}

std::optional<uint64_t> JumpPlan::original_pc(uint64_t pc) const {
  const uint64_t prologue = layout_.saved_end - slot_.value;
  const uint64_t relocated = layout_.first_relocated - slot_.value;
  // Before sp moves, on the way back after a failed reservation, and at the
  // displaced instruction, the registers are as at the site (in either
  // form); after the displaced instruction, as after it.
  if ((pc >= slot_.value && pc <= layout_.saved_end) ||
      (pc >= layout_.stepped && pc <= layout_.stepped + prologue) || pc == layout_.first_relocated ||
      pc == layout_.stepped + relocated || pc == layout_.back_to_site)
    return site_.value;
  if (pc == layout_.back_after) return site_.value + length_;
  return std::nullopt;
}

std::optional<SlotExit> JumpPlan::slot_exit(uint64_t pc) const {
  if (pc < slot_.value || pc >= layout_.end) return std::nullopt;
  // Nothing done yet, or everything undone: the site enters again, and
  // records the hit then.
  if (pc <= layout_.saved_end || pc == layout_.back_to_site) return SlotExit{SlotExit::Kind::Original, site_.value};
  if (pc == layout_.back_after) return SlotExit{SlotExit::Kind::Original, site_.value + length_};
  if (pc >= layout_.stepped) return SlotExit{SlotExit::Kind::Step, pc};
  return SlotExit{SlotExit::Kind::Step, pc - slot_.value + layout_.stepped};
}

std::vector<uint8_t> JumpPlan::site_patch() const {
  const auto b = word_bytes(site_jal_);
  std::vector<uint8_t> out(b.begin(), b.end());
  // The last 2 bytes of a 4-byte second displaced instruction: never run
  // (nothing arrives there, jump_targets.h), but a c.nop keeps the code
  // after the jal decoding as instructions, and makes the whole displaced
  // range part of the patch, so the core checks every byte of it against
  // the file and restores every byte at detach.
  if (length_ == 6) {
    const auto nop = parcel_bytes(kCNop);
    out.insert(out.end(), nop.begin(), nop.end());
  }
  return out;
}

bool JumpPlan::is_step_end_trap(RuntimeAddr trap) const {
  return trap.value == layout_.stepped_to_site || trap.value == layout_.stepped_after;
}

bool JumpPlan::is_ring_full_trap(RuntimeAddr trap) const { return trap.value == layout_.full_trap; }

JumpBuild build_jump(const Decoded& d, const SiteContext& ctx, std::span<const Decoded> code, size_t slot_size) {
  if (!ctx.jump) return {nullptr, ctx.jump_unavailable};
  if (std::string why = not_displaceable(d); !why.empty()) return {nullptr, why};
  const JumpContext& jump = *ctx.jump;
  const uint64_t site = ctx.site.value;
  const auto site_jal = jal_to(site, ctx.slot.value);
  if (!site_jal) {
    const uint64_t distance = ctx.slot.value > site ? ctx.slot.value - site : site - ctx.slot.value;
    return {nullptr, fmt::format("the trampoline is {:#x} bytes from the site, out of reach of jal (+-1 MiB): no free "
                                 "address range near enough for uptrace's slots",
                                 distance)};
  }
  const uint64_t records = jump.records.size();
  if (records == 0) return {nullptr, "no probe records anything here"};
  if (jump.capacity < std::max<uint64_t>(records, 2) || !std::has_single_bit(jump.capacity) ||
      jump.capacity > (uint64_t{1} << 32) || records > 2047)
    return {nullptr, fmt::format("a ring of {} records cannot take {} at once", jump.capacity, records)};
  for (const JumpRecordSpec& spec : jump.records) {
    if (spec.filter)
      return {nullptr, "the probe has a condition, which riscv64 trampolines do not evaluate yet (uptrace evaluates "
                       "it at a stop)"};
    if (spec.words.size() > ring::kMaxValues)
      return {nullptr,
              fmt::format("a probe records at most {} values in jump mode, not {}", ring::kMaxValues, spec.words.size())};
  }
  const Displaced displaced = displaced_at(d, ctx, code);
  if (!displaced.why_not.empty()) return {nullptr, displaced.why_not};
  const Emitted free_running = emit(false, ctx.slot.value, displaced, jump, site);
  if (!free_running.why_not.empty()) return {nullptr, free_running.why_not};
  const uint64_t stepped_at = ctx.slot.value + free_running.bytes.size();
  const Emitted stepped = emit(true, stepped_at, displaced, jump, site);
  if (!stepped.why_not.empty()) return {nullptr, stepped.why_not};
  std::vector<uint8_t> code_bytes = free_running.bytes;
  code_bytes.insert(code_bytes.end(), stepped.bytes.begin(), stepped.bytes.end());
  if (code_bytes.size() > slot_size)
    return {nullptr, fmt::format("the trampoline needs {} bytes, more than a slot's {}", code_bytes.size(), slot_size)};

  const uint64_t slot = ctx.slot.value;
  JumpPlan::Layout layout;
  layout.saved_end = slot + free_running.saved_end;
  layout.first_relocated = slot + free_running.first_relocated;
  if (free_running.second_relocated) layout.second_relocated = slot + free_running.second_relocated;
  layout.back_to_site = slot + free_running.to_site;
  layout.back_after = slot + free_running.after;
  layout.full_trap = slot + free_running.full;
  layout.stepped = stepped_at;
  layout.stepped_to_site = stepped_at + stepped.to_site;
  layout.stepped_after = stepped_at + stepped.after;
  layout.end = slot + code_bytes.size();

  const uint64_t length = displaced.length;
  if (displaced.insns.size() > 1) {
    const Decoded& next = *displaced.insns[1];
    std::string description = fmt::format(
        "the 2-byte instruction at the site and the {} after it become a jal{} to a trampoline that records{} without "
        "stopping (thread named by tp, or by gettid), runs both and jumps back to {:#x} (no branch, symbol, unwind "
        "entry or landing pad lands at {:#x})",
        next.name(), length == 6 ? " and a c.nop" : "", records == 1 ? " the hit" : fmt::format(" {} hits", records),
        site + length, next.insn.address.value);
    if (displaced.undo_first && displaced.undo_first->first != 0)
      description += fmt::format("; a fault in the {} is delivered at the site, with the {} undone ({} {:+d})",
                                 next.name(), d.name(), x_name(displaced.undo_first->first),
                                 -displaced.undo_first->second);
    return {std::make_unique<JumpPlan>(std::move(code_bytes), *site_jal, ctx.site, length, ctx.slot, layout,
                                       displaced.undo_first, std::move(description)),
            {}};
  }
  std::string description = "the instruction at the site becomes a jal to a trampoline that records";
  description += records == 1 ? " the hit" : fmt::format(" {} hits", records);
  description += d.row->cls == InsnClass::Auipc && rd(d.word) != 0
                     ? fmt::format(" without stopping (thread named by tp, or by gettid), sets {} = {:#x} (the site's value) and "
                                   "jumps back to {:#x}",
                                   x_name(rd(d.word)), site + imm_u(d.word), site + d.insn.length)
                     : fmt::format(" without stopping (thread named by tp, or by gettid), runs the displaced instruction and jumps "
                                   "back to {:#x}",
                                   site + d.insn.length);
  return {std::make_unique<JumpPlan>(std::move(code_bytes), *site_jal, ctx.site, length, ctx.slot, layout, std::nullopt,
                                     std::move(description)),
          {}};
}

}  // namespace uptrace::arch::riscv64
