#include "arch/x86_64/plans.h"

#include <algorithm>
#include <array>
#include <cassert>

#include "arch/x86_64/registers.h"
#include "common/error.h"

namespace uptrace::arch::x86_64 {
namespace {

std::optional<uint64_t> read_le(MemoryAccess& mem, uint64_t addr, uint8_t bytes) {
  std::array<uint8_t, 8> buf{};
  if (!mem.read(RuntimeAddr(addr), std::span<uint8_t>(buf.data(), bytes))) return std::nullopt;
  uint64_t v = 0;
  for (uint8_t i = 0; i < bytes; ++i) v |= uint64_t{buf[i]} << (8 * i);
  return v;
}

bool write_le(MemoryAccess& mem, uint64_t addr, uint64_t value, uint8_t bytes) {
  std::array<uint8_t, 8> buf{};
  for (uint8_t i = 0; i < bytes; ++i) buf[i] = static_cast<uint8_t>(value >> (8 * i));
  return mem.write(RuntimeAddr(addr), std::span<const uint8_t>(buf.data(), bytes));
}

// Whether `addr` is canonical with 48-bit virtual addresses. A ret to any
// other address raises #GP at the ret itself (with 5-level paging some of
// them are canonical, so the CPU decides: they are stepped).
bool is_canonical48(uint64_t addr) {
  const uint64_t top = addr >> 47;
  return top == 0 || top == 0x1ffff;
}

bool push(Regs& regs, MemoryAccess& mem, uint64_t value, uint8_t bytes) {
  const uint64_t sp = regs.words[kRsp] - bytes;
  if (!write_le(mem, sp, value, bytes)) return false;
  regs.words[kRsp] = sp;
  return true;
}

}  // namespace

// --- StepPlan ---------------------------------------------------------------

HitAction StepPlan::begin_hit(Regs& regs, MemoryAccess&, StepState& state) const {
  if (spec_.scratch_word) {
    state.saved[0] = regs.words[*spec_.scratch_word];
    regs.words[*spec_.scratch_word] = spec_.site.value + spec_.length;
  }
  state.saved[1] = regs.words[kEflags] & flags::kTF;
  regs.words[kRip] = spec_.slot.value;
  return HitAction::SingleStep;
}

void StepPlan::finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const {
  if (spec_.scratch_word) regs.words[*spec_.scratch_word] = state.saved[0];

  uint64_t& pc = regs.words[kRip];
  const PcFixup& fix = spec_.pc;
  switch (fix.kind) {
    case PcFixup::Kind::Keep: break;
    case PcFixup::Kind::Branch:
      if (pc == fix.taken_in_slot) {
        pc = fix.taken;
        break;
      }
      if (pc == fix.not_taken_in_slot) {
        pc = fix.not_taken;
        break;
      }
      // Neither landing point (cannot happen for a completed step): relocate like any other instruction.
      [[fallthrough]];
    case PcFixup::Kind::Relocate: pc = spec_.site.value + (pc - spec_.slot.value); break;
  }

  const uint64_t sp = regs.words[kRsp];
  if (spec_.rewrite_return_address && !write_le(mem, sp, spec_.site.value + spec_.length, 8)) {
    throw_runtime("cannot rewrite the return address at {:#x} after stepping the call at {:#x}", sp, spec_.site.value);
  }
  if (spec_.pushed_flags_bytes != 0) {
    const uint8_t n = spec_.pushed_flags_bytes;
    const auto pushed = read_le(mem, sp, n);
    if (!pushed || !write_le(mem, sp, (*pushed & ~flags::kTF) | state.saved[1], n)) {
      throw_runtime("cannot correct the flags pushed at {:#x} by the pushf at {:#x}", sp, spec_.site.value);
    }
  }
}

bool StepPlan::is_step_end_trap(RuntimeAddr trap) const {
  return std::find(spec_.end_traps.begin(), spec_.end_traps.end(), trap.value) != spec_.end_traps.end();
}

void StepPlan::abort_step(Regs& regs, const StepState& state) const {
  if (spec_.scratch_word) regs.words[*spec_.scratch_word] = state.saved[0];
  regs.words[kRip] = spec_.site.value;
}



JumpEmulation::JumpEmulation(std::string description, uint64_t target)
    : EmulatePlan(std::move(description), nullptr), target_(target) {}

bool JumpEmulation::emulate(Regs& regs, MemoryAccess&) const {
  regs.words[kRip] = target_;
  return true;
}

CallEmulation::CallEmulation(std::string description, uint64_t return_address, uint64_t target,
                             std::unique_ptr<StepPlan> fallback)
    : EmulatePlan(std::move(description), std::move(fallback)), return_address_(return_address), target_(target) {}

bool CallEmulation::emulate(Regs& regs, MemoryAccess& mem) const {
  if (!push(regs, mem, return_address_, 8)) return false;
  regs.words[kRip] = target_;
  return true;
}

IndirectBranchEmulation::IndirectBranchEmulation(std::string description, Target target, bool call, uint64_t next,
                                                 std::unique_ptr<StepPlan> fallback)
    : EmulatePlan(std::move(description), std::move(fallback)), target_(std::move(target)), call_(call), next_(next) {}

bool IndirectBranchEmulation::emulate(Regs& regs, MemoryAccess& mem) const {
  uint64_t to = 0;
  if (target_.reg) {
    to = read_register(regs, *target_.reg);
  } else {
    uint64_t at = static_cast<uint64_t>(target_.disp);
    if (target_.base) at += read_register(regs, *target_.base);
    if (target_.index) at += read_register(regs, *target_.index) * target_.scale;
    if (target_.segment_base) at += regs.words[*target_.segment_base];
    const auto value = read_le(mem, at, 8);
    if (!value) return false;
    to = *value;
  }
  if (call_) {
    // A non-canonical target faults at the call itself: stepped, so the CPU says so.
    if (!is_canonical48(to) || !push(regs, mem, next_, 8)) return false;
  } else if (!is_canonical48(to)) {
    return false;
  }
  regs.words[kRip] = to;
  return true;
}

bool jcc_taken(uint8_t cc, uint64_t eflags) {
  auto set = [&](uint64_t bit) { return (eflags & bit) != 0; };
  bool holds = false;
  switch ((cc >> 1) & 7) {
    case 0: holds = set(flags::kOF); break;                                  // o
    case 1: holds = set(flags::kCF); break;                                  // b
    case 2: holds = set(flags::kZF); break;                                  // e
    case 3: holds = set(flags::kCF) || set(flags::kZF); break;               // be
    case 4: holds = set(flags::kSF); break;                                  // s
    case 5: holds = set(flags::kPF); break;                                  // p
    case 6: holds = set(flags::kSF) != set(flags::kOF); break;               // l
    case 7: holds = set(flags::kZF) || set(flags::kSF) != set(flags::kOF); break;  // le
  }
  // Odd condition codes are the negations.
  return (cc & 1) ? !holds : holds;
}

CondJumpEmulation::CondJumpEmulation(std::string description, uint8_t cc, uint64_t taken, uint64_t not_taken)
    : EmulatePlan(std::move(description), nullptr), cc_(cc), taken_(taken), not_taken_(not_taken) {}

bool CondJumpEmulation::emulate(Regs& regs, MemoryAccess&) const {
  regs.words[kRip] = jcc_taken(cc_, regs.words[kEflags]) ? taken_ : not_taken_;
  return true;
}

LoopEmulation::LoopEmulation(std::string description, uint8_t opcode, bool ecx, uint64_t taken, uint64_t not_taken)
    : EmulatePlan(std::move(description), nullptr), opcode_(opcode), ecx_(ecx), taken_(taken), not_taken_(not_taken) {}

bool LoopEmulation::emulate(Regs& regs, MemoryAccess&) const {
  uint64_t& rcx = regs.words[kRcx];
  const bool zf = (regs.words[kEflags] & flags::kZF) != 0;
  bool taken = false;
  if (opcode_ == 0xe3) {  // jrcxz/jecxz: test only
    taken = (ecx_ ? static_cast<uint32_t>(rcx) : rcx) == 0;
  } else {
    // With 0x67 the count is ecx, and writing it clears the upper half of
    // rcx as any 32-bit register write does (checked on hardware).
    rcx = ecx_ ? static_cast<uint32_t>(rcx - 1) : rcx - 1;
    taken = rcx != 0;
    if (opcode_ == 0xe1) taken = taken && zf;   // loope
    if (opcode_ == 0xe0) taken = taken && !zf;  // loopne
  }
  regs.words[kRip] = taken ? taken_ : not_taken_;
  return true;
}

PushEmulation::PushEmulation(std::string description, Source source, uint8_t bytes, uint64_t next,
                             std::unique_ptr<StepPlan> fallback)
    : EmulatePlan(std::move(description), std::move(fallback)), source_(source), bytes_(bytes), next_(next) {}

bool PushEmulation::emulate(Regs& regs, MemoryAccess& mem) const {
  uint64_t value = 0;
  switch (source_.kind) {
    case Source::Kind::Register: value = regs.words[source_.word]; break;  // push rsp pushes the old rsp
    case Source::Kind::Immediate: value = source_.value; break;
    // pushf stores RFLAGS with RF and VM cleared.
    case Source::Kind::Flags: value = regs.words[kEflags] & ~(flags::kRF | flags::kVM); break;
  }
  if (!push(regs, mem, value, bytes_)) return false;
  regs.words[kRip] = next_;
  return true;
}

LeaEmulation::LeaEmulation(std::string description, RegisterRef dest, uint64_t value, uint64_t next)
    : EmulatePlan(std::move(description), nullptr), dest_(dest), value_(value), next_(next) {}

bool LeaEmulation::emulate(Regs& regs, MemoryAccess&) const {
  write_register(regs, dest_, value_);
  regs.words[kRip] = next_;
  return true;
}

RetEmulation::RetEmulation(std::string description, uint16_t release, std::unique_ptr<StepPlan> fallback)
    : EmulatePlan(std::move(description), std::move(fallback)), release_(release) {}

bool RetEmulation::emulate(Regs& regs, MemoryAccess& mem) const {
  const auto target = read_le(mem, regs.words[kRsp], 8);
  // A return address the CPU would refuse: step the ret so the fault is raised at the site.
  if (!target || !is_canonical48(*target)) return false;
  regs.words[kRsp] += 8 + release_;
  regs.words[kRip] = *target;
  return true;
}

}  // namespace uptrace::arch::x86_64
