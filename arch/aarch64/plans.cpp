#include "arch/aarch64/plans.h"

#include <array>
#include <cassert>

#include "arch/aarch64/encoding.h"
#include "arch/aarch64/registers.h"
#include "common/error.h"

namespace uptrace::arch::aarch64 {
namespace {

std::optional<uint64_t> read_le(MemoryAccess& mem, uint64_t addr, uint8_t bytes) {
  std::array<uint8_t, 8> buf{};
  if (!mem.read(RuntimeAddr(addr), std::span<uint8_t>(buf.data(), bytes))) return std::nullopt;
  uint64_t v = 0;
  for (uint8_t i = 0; i < bytes; ++i) v |= uint64_t{buf[i]} << (8 * i);
  return v;
}

void finish_emulation(Regs& regs, uint64_t next_pc) {
  regs.words[kPc] = next_pc;
  regs.words[kPstate] &= ~pstate::kBtype;
}

}  // namespace

// --- StepPlan ---------------------------------------------------------------

HitAction StepPlan::begin_hit(Regs& regs, MemoryAccess&, StepState& state) const {
  if (spec_.scratch) {
    state.saved[0] = read_x(regs, spec_.scratch->reg);
    write_x(regs, spec_.scratch->reg, spec_.scratch->value);
  }
  regs.words[kPc] = spec_.slot.value;
  return HitAction::SingleStep;
}

void StepPlan::finish_step(Regs& regs, MemoryAccess&, const StepState& state) const {
  if (spec_.scratch && !spec_.scratch->is_result) write_x(regs, spec_.scratch->reg, state.saved[0]);

  uint64_t& pc = regs.words[kPc];
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
  if (spec_.rewrite_link) regs.words[kLr] = spec_.site.value + kInsnSize;
  if (spec_.result_delta) {
    const auto [reg, delta] = *spec_.result_delta;
    write_x(regs, reg, read_x(regs, reg) + delta);
  }
}

void StepPlan::abort_step(Regs& regs, const StepState& state) const {
  if (spec_.scratch) write_x(regs, spec_.scratch->reg, state.saved[0]);
  regs.words[kPc] = spec_.site.value;
}



JumpEmulation::JumpEmulation(std::string description, uint64_t target, std::optional<uint64_t> link)
    : EmulatePlan(std::move(description), nullptr), target_(target), link_(link) {}

bool JumpEmulation::emulate(Regs& regs, MemoryAccess&) const {
  if (link_) regs.words[kLr] = *link_;
  finish_emulation(regs, target_);
  return true;
}

bool BranchCondition::holds(const Regs& regs) const {
  const uint64_t value = read_x(regs, reg);
  switch (kind) {
    case Kind::Flags: return condition_holds(cond, regs.words[kPstate]);
    case Kind::Zero: return ((wide ? value : static_cast<uint32_t>(value)) == 0) == branch_if_zero;
    case Kind::Bit: return (((value >> bit) & 1) == 0) == branch_if_zero;
  }
  return false;
}

CondBranchEmulation::CondBranchEmulation(std::string description, BranchCondition cond, uint64_t taken,
                                         uint64_t not_taken)
    : EmulatePlan(std::move(description), nullptr), cond_(cond), taken_(taken), not_taken_(not_taken) {}

bool CondBranchEmulation::emulate(Regs& regs, MemoryAccess&) const {
  finish_emulation(regs, cond_.holds(regs) ? taken_ : not_taken_);
  return true;
}

RegisterBranchEmulation::RegisterBranchEmulation(std::string description, uint8_t reg, std::optional<uint64_t> link)
    : EmulatePlan(std::move(description), nullptr), reg_(reg), link_(link) {}

bool RegisterBranchEmulation::emulate(Regs& regs, MemoryAccess&) const {
  const uint64_t target = read_x(regs, reg_);  // blr x30 branches to the old x30
  if (link_) regs.words[kLr] = *link_;
  finish_emulation(regs, target);
  return true;
}

AddressEmulation::AddressEmulation(std::string description, uint8_t reg, uint64_t value, uint64_t next)
    : EmulatePlan(std::move(description), nullptr), reg_(reg), value_(value), next_(next) {}

bool AddressEmulation::emulate(Regs& regs, MemoryAccess&) const {
  write_x(regs, reg_, value_);
  finish_emulation(regs, next_);
  return true;
}

LiteralLoadEmulation::LiteralLoadEmulation(std::string description, uint8_t reg, uint64_t address, uint8_t bytes,
                                           bool sign_extend, uint64_t next, std::unique_ptr<StepPlan> fallback)
    : EmulatePlan(std::move(description), std::move(fallback)),
      reg_(reg),
      address_(address),
      bytes_(bytes),
      sign_extend_(sign_extend),
      next_(next) {}

bool LiteralLoadEmulation::emulate(Regs& regs, MemoryAccess& mem) const {
  const auto value = read_le(mem, address_, bytes_);
  if (!value) return false;
  // A 32-bit load zero-extends into the x register; ldrsw sign-extends.
  write_x(regs, reg_, sign_extend_ ? static_cast<uint64_t>(aarch64::sign_extend(*value, 8u * bytes_)) : *value);
  finish_emulation(regs, next_);
  return true;
}

}  // namespace uptrace::arch::aarch64
