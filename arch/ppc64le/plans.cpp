#include "arch/ppc64le/plans.h"

#include <array>
#include <cassert>

#include "arch/ppc64le/encoding.h"
#include "arch/ppc64le/registers.h"

namespace uptrace::arch::ppc64le {
namespace {

std::optional<uint64_t> read_le(MemoryAccess& mem, uint64_t addr, uint8_t bytes) {
  std::array<uint8_t, 8> buf{};
  if (!mem.read(RuntimeAddr(addr), std::span<uint8_t>(buf.data(), bytes))) return std::nullopt;
  uint64_t v = 0;
  for (uint8_t i = 0; i < bytes; ++i) v |= uint64_t{buf[i]} << (8 * i);
  return v;
}

}  // namespace

// --- StepPlan ---------------------------------------------------------------

HitAction StepPlan::begin_hit(Regs& regs, MemoryAccess&, StepState& state) const {
  if (spec_.scratch) {
    state.saved[0] = regs.words[spec_.scratch->reg];
    regs.words[spec_.scratch->reg] = spec_.scratch->value;
  }
  regs.words[kNip] = spec_.slot.value;
  return HitAction::SingleStep;
}

void StepPlan::finish_step(Regs& regs, MemoryAccess&, const StepState& state) const {
  if (spec_.scratch && !spec_.scratch->is_result) regs.words[spec_.scratch->reg] = state.saved[0];
  uint64_t& pc = regs.words[kNip];
  const uint64_t fall_through = spec_.slot.value + spec_.length;
  if (!spec_.keep_taken_pc || pc == fall_through) pc = spec_.site.value + (pc - spec_.slot.value);
  if (spec_.rewrite_link) regs.words[kLink] = spec_.site.value + spec_.length;
}

void StepPlan::abort_step(Regs& regs, const StepState& state) const {
  if (spec_.scratch) regs.words[spec_.scratch->reg] = state.saved[0];
  regs.words[kNip] = spec_.site.value;
}

// Only boost and jump code runs unwatched; a stepped copy is always ended
// through finish_step or abort_step, which also give a scratch register back.
std::optional<uint64_t> StepPlan::original_pc(uint64_t) const { return std::nullopt; }

// --- EmulatePlan ------------------------------------------------------------


bool BranchSpec::taken(uint64_t& ctr, const Regs& regs) const {
  // BO: 16 ignore the condition, 8 the CR value to branch on, 4 leave CTR
  // alone, 2 branch when the decremented CTR is zero (else non-zero).
  bool ctr_ok = true;
  if (!(bo & 4)) {
    --ctr;
    ctr_ok = (ctr != 0) != ((bo & 2) != 0);
  }
  const bool cond_ok = (bo & 16) || cr_bit(regs, bi) == ((bo & 8) != 0);
  return ctr_ok && cond_ok;
}

BranchEmulation::BranchEmulation(std::string description, BranchSpec spec)
    : EmulatePlan(std::move(description), nullptr), spec_(spec) {}

bool BranchEmulation::emulate(Regs& regs, MemoryAccess&) const {
  // The target register is read before LK overwrites LR (bclrl branches to the old LR).
  uint64_t target = spec_.fixed;
  if (spec_.target == BranchSpec::Target::Lr) target = regs.words[kLink] & ~uint64_t{3};
  if (spec_.target == BranchSpec::Target::Ctr) target = regs.words[kCtr] & ~uint64_t{3};
  uint64_t ctr = regs.words[kCtr];
  const bool taken = spec_.taken(ctr, regs);
  regs.words[kCtr] = ctr;
  if (spec_.link) regs.words[kLink] = spec_.next;
  regs.words[kNip] = taken ? target : spec_.next;
  return true;
}

AddressEmulation::AddressEmulation(std::string description, uint8_t reg, uint64_t value, uint64_t next)
    : EmulatePlan(std::move(description), nullptr), reg_(reg), value_(value), next_(next) {}

bool AddressEmulation::emulate(Regs& regs, MemoryAccess&) const {
  regs.words[reg_] = value_;
  regs.words[kNip] = next_;
  return true;
}

PcRelLoadEmulation::PcRelLoadEmulation(std::string description, uint8_t reg, uint64_t address, uint8_t bytes,
                                       bool sign_extend, uint64_t next, std::unique_ptr<StepPlan> fallback)
    : EmulatePlan(std::move(description), std::move(fallback)),
      reg_(reg),
      address_(address),
      bytes_(bytes),
      sign_extend_(sign_extend),
      next_(next) {}

bool PcRelLoadEmulation::emulate(Regs& regs, MemoryAccess& mem) const {
  const auto value = read_le(mem, address_, bytes_);
  if (!value) return false;
  regs.words[reg_] = sign_extend_ ? static_cast<uint64_t>(ppc64le::sign_extend(*value, 8u * bytes_)) : *value;
  regs.words[kNip] = next_;
  return true;
}

}  // namespace uptrace::arch::ppc64le
