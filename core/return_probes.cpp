#include "core/return_probes.h"

#include <algorithm>

#include <fmt/format.h>

namespace uptrace::core {

namespace {

bool read_word(MemoryAccess& mem, uint64_t addr, uint64_t& out) {
  return mem.read(RuntimeAddr(addr), {reinterpret_cast<uint8_t*>(&out), sizeof out});
}

bool write_word(MemoryAccess& mem, uint64_t addr, uint64_t value) {
  return mem.write(RuntimeAddr(addr), {reinterpret_cast<const uint8_t*>(&value), sizeof value});
}

bool has_role(const ArmedSite& site, ProbeRole role) {
  return std::any_of(site.probes.begin(), site.probes.end(), [&](const ArmedSite::Probe& p) { return p.role == role; });
}

// The register word that holds the return address at the entry, when the ISA
// keeps it in a whole 64-bit register (aarch64's x30).
std::optional<uint16_t> link_register(const arch::ReturnAddressSlot& where) {
  if (where.kind != arch::ReturnAddressSlot::Kind::Register || where.reg.bits != 64 || where.reg.shift != 0)
    return std::nullopt;
  return where.reg.word;
}

bool holds(MemoryAccess& mem, uint64_t slot, uint64_t value) {
  uint64_t v = 0;
  return read_word(mem, slot, v) && v == value;
}

// Whether frame `f` of a thread provably can no longer return through the
// trampoline, seen from that thread's new entry with stack pointer
// `entry_sp` (`chained`: whose return address is the trampoline already).
bool dead(const ReturnFrame& f, uint64_t entry_sp, bool chained, MemoryAccess& mem, uint64_t trampoline) {
  if (!f.armed) return false;
  // Entered anew at its very stack position: it is gone, unless this entry
  // is its tail call.
  if (f.entry_sp == entry_sp) return !chained;
  // An enclosing frame (or one on another stack) whose return address moves
  // between a register and its slot: the slot proves nothing.
  if (f.entry_sp > entry_sp && f.moves) return false;
  // Kept in a register for good: nothing to look at.
  if (f.slot == 0) return false;
  return !holds(mem, f.slot, trampoline);
}

}  // namespace

void ReturnProbes::on_site_hit(Thread& t, AddressSpace& space, uint32_t site_index, arch::Regs& regs,
                               uint64_t now_ns) {
  if (!space.return_trampoline.value) return;
  const ArmedSite& site = space.sites[site_index];
  // The unwinder's own entry first: a user's %return on it must not have
  // its fresh hijack undone at once.
  if (has_role(site, ProbeRole::UnwindStart)) unwind_starts(t, space);
  if (has_role(site, ProbeRole::CatchStart)) catch_begins(t, space, regs);
  if (has_role(site, ProbeRole::Return)) hijack(t, space, site_index, regs, now_ns);
}

void ReturnProbes::hijack(Thread& t, AddressSpace& space, uint32_t site_index, arch::Regs& regs, uint64_t now_ns) {
  const arch::ReturnAddressSlot where = isa_.return_address_slot(regs);
  const bool in_register = where.kind == arch::ReturnAddressSlot::Kind::Register;
  const uint64_t trampoline = space.return_trampoline.value;
  const uint64_t entry_sp = isa_.sp(regs);
  uint64_t ret = 0;
  uint64_t slot = 0;
  const std::optional<uint16_t> link = link_register(where);
  if (in_register) {
    if (!link) {
      ++unreadable_;
      return;
    }
    ret = regs.words[*link];
    // Where the prologue will save it, if it does.
    const std::optional<int64_t>& spill = space.sites[site_index].return_spill;
    if (spill) slot = entry_sp + static_cast<uint64_t>(*spill);
  } else {
    slot = where.addr.value;
    if (!read_word(space.memory, slot, ret)) {
      ++unreadable_;
      return;
    }
  }
  // A tail call: the caller jumped here with its own hijacked return
  // address in place. Both return at once, through one trampoline trap.
  const bool chained = ret == trampoline;
  ReturnStack& stack = t.returns;
  // Frames at or below this entry that cannot return any more were left by
  // longjmp or an exception. A frame below whose slot still holds the
  // trampoline may be dead too, or live on another stack; it stays (pairing
  // is by position, so it does no harm).
  while (!stack.empty() && stack.frames().back().armed && stack.frames().back().entry_sp <= entry_sp &&
         dead(stack.frames().back(), entry_sp, chained, space.memory, trampoline))
    stack.frames().pop_back();

  ReturnFrame f;
  f.slot = slot;
  f.entry_sp = entry_sp;
  f.sp_after = isa_.sp_after_return(entry_sp);
  f.site = site_index;
  f.entry_ns = now_ns;
  f.moves = in_register;
  f.entry_ns = now_ns;
  if (chained) {
    // Its owner was entered with the same stack pointer (x86-64: it is the
    // same slot; aarch64: the caller's slot and this function's differ).
    const ReturnFrame* owner = stack.newest_at_entry(entry_sp);
    if (!owner) {
      ++unknown_chain_;
      return;
    }
    f.orig_ret = owner->orig_ret;
    f.chained = true;
    stack.push(f);
    return;
  }
  if (stack.full()) {
    // Before giving up, drop every frame that provably cannot return.
    stack.drop_if([&](const ReturnFrame& g) { return dead(g, entry_sp, false, space.memory, trampoline); });
    if (stack.full()) {
      ++too_deep_;
      return;
    }
  }
  if (in_register) {
    regs.words[*link] = trampoline;
  } else if (!write_word(space.memory, slot, trampoline)) {
    ++unreadable_;
    return;
  }
  f.orig_ret = ret;
  stack.push(f);
}

void ReturnProbes::unwind_starts(Thread& t, AddressSpace& space) {
  const uint64_t trampoline = space.return_trampoline.value;
  // Not the trampoline any more: the frame is already dead, unless its
  // return address is somewhere else for now (ReturnFrame::moves); such a
  // frame stays armed, untouched.
  t.returns.drop_if([&](const ReturnFrame& f) {
    return f.armed && f.slot != 0 && !f.moves && !holds(space.memory, f.slot, trampoline);
  });
  // A chained frame may share its slot with its owner, which comes first
  // and has written the real address there already.
  for (ReturnFrame& f : t.returns.frames()) {
    if (!f.armed || f.slot == 0) continue;
    uint64_t v = 0;
    if (!read_word(space.memory, f.slot, v)) continue;
    if (v == trampoline) {
      write_word(space.memory, f.slot, f.orig_ret);
    } else if (!(f.chained && v == f.orig_ret)) {
      continue;
    }
    f.armed = false;
  }
}

void ReturnProbes::catch_begins(Thread& t, AddressSpace& space, const arch::Regs& regs) {
  const uint64_t sp = isa_.sp(regs);
  const uint64_t trampoline = space.return_trampoline.value;
  // The frames the exception passed through are below the catching frame:
  // gone. Those above it are live again and are hijacked again.
  t.returns.drop_if([&](const ReturnFrame& f) {
    if (f.armed) return false;
    return f.entry_sp <= sp || !holds(space.memory, f.slot, f.orig_ret);
  });
  for (ReturnFrame& f : t.returns.frames()) {
    if (f.armed) continue;
    if (!write_word(space.memory, f.slot, trampoline)) continue;
    f.armed = true;
  }
  t.returns.drop_if([&](const ReturnFrame& f) { return !f.armed; });
}

void ReturnProbes::unhijack_register(arch::Regs& regs, uint64_t trampoline, uint64_t orig_ret) const {
  const std::optional<uint16_t> link = link_register(isa_.return_address_slot(regs));
  if (link && regs.words[*link] == trampoline) regs.words[*link] = orig_ret;
}

std::vector<ReturnFrame> ReturnProbes::on_trampoline(Thread& t, AddressSpace& space, arch::Regs& regs,
                                                     std::span<Thread* const> others) {
  uint64_t sp = isa_.sp(regs);
  std::vector<ReturnFrame> frames = t.returns.pop_returning(sp);
  for (size_t i = 0; frames.empty() && i < others.size(); ++i)
    if (others[i] != &t) frames = others[i]->returns.pop_returning(sp);
  if (frames.empty()) {
    ++unmatched_;
    return frames;
  }
  isa_.set_pc(regs, frames.front().orig_ret);
  unhijack_register(regs, space.return_trampoline.value, frames.front().orig_ret);
  return frames;
}

bool ReturnProbes::leave_trampoline(Thread& t, arch::Regs& regs, RuntimeAddr trampoline) {
  std::vector<ReturnFrame> frames = t.returns.pop_returning(isa_.sp(regs));
  if (frames.empty()) return false;
  isa_.set_pc(regs, frames.front().orig_ret);
  unhijack_register(regs, trampoline.value, frames.front().orig_ret);
  return true;
}

size_t ReturnProbes::restore(ReturnStack& stack, MemoryAccess& mem, RuntimeAddr trampoline) {
  size_t failed = 0;
  // Newest first: with a slot hijacked twice (the older frame dead), the
  // newest frame's address is the one its live caller needs.
  for (auto it = stack.frames().rbegin(); it != stack.frames().rend(); ++it) {
    if (!it->armed || it->slot == 0) continue;
    if (!holds(mem, it->slot, trampoline.value)) continue;
    if (!write_word(mem, it->slot, it->orig_ret)) ++failed;
  }
  stack.clear();
  return failed;
}

bool ReturnProbes::restore_register(const Thread& t, arch::Regs& regs, RuntimeAddr trampoline) const {
  const std::optional<uint16_t> link = link_register(isa_.return_address_slot(regs));
  if (!link || !trampoline.value) return false;
  const uint64_t real = real_register(t, isa_.sp(regs), trampoline.value, trampoline);
  if (real == trampoline.value) return false;
  // The trampoline's address reaches the program only as the return address
  // uptrace put in the link register, so any register that holds it holds
  // that return address: the link register, or a copy the function made
  // before its prologue saved it (ppc64's mflr r0, which a CFI "register"
  // rule describes, and -O0 code, whose CFI does not).
  bool changed = false;
  auto fix = [&](uint16_t word) {
    if (regs.words[word] != trampoline.value) return;
    regs.words[word] = real;
    changed = true;
  };
  fix(*link);
  for (const arch::DwarfRegister& d : isa_.dwarf_register_map())
    if (d.reg.bits == 64 && d.reg.word != isa_.sp_word()) fix(d.reg.word);
  return changed;
}

size_t ReturnProbes::restore_moved(const ReturnStack& stack, uint64_t sp, uint64_t limit, MemoryAccess& mem,
                                   RuntimeAddr trampoline) const {
  // Where the ABI has every function save it (ppc64: entry sp + 16, in the
  // caller's frame), a frame entered at sp or below it by less than that
  // may have saved it above sp.
  const std::optional<int64_t> abi = isa_.return_address_slot(arch::Regs{}).abi_save_offset;
  const uint64_t reach = abi && *abi > 0 ? static_cast<uint64_t>(*abi) + sizeof(uint64_t) : 0;
  std::vector<const ReturnFrame*> above;
  uint64_t top = 0;
  for (const ReturnFrame& f : stack.frames()) {
    if (!f.armed || !f.moves || f.entry_sp + reach <= sp || f.entry_sp > limit) continue;
    above.push_back(&f);
    top = std::max(top, f.entry_sp + reach);
  }
  if (above.empty() || !trampoline.value) return 0;
  top = std::min(top, sp + kMaxScan);
  constexpr size_t kChunkWords = 8192;
  std::vector<uint64_t> words(kChunkWords);
  size_t fixed = 0;
  for (uint64_t at = sp & ~uint64_t{7}; at < top;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunkWords, (top - at + 7) / 8));
    if (!mem.read(RuntimeAddr(at), {reinterpret_cast<uint8_t*>(words.data()), n * sizeof(uint64_t)})) break;
    for (size_t i = 0; i < n; ++i) {
      if (words[i] != trampoline.value) continue;
      const uint64_t addr = at + i * sizeof(uint64_t);
      // Its frame: the one whose ABI save place it is (ppc64: a function
      // tail-called at the frame's entry sp saved it there), else the
      // innermost entered above it, in whose frame it lies (aarch64: the
      // tail-called function's own frame). On a tie the newest: a tail-call
      // chain, whose members share the real address anyway.
      const ReturnFrame* owner = nullptr;
      if (abi)
        for (const ReturnFrame* f : above)
          if (f->entry_sp + static_cast<uint64_t>(*abi) == addr) owner = f;
      if (!owner)
        for (const ReturnFrame* f : above)
          if (f->entry_sp > addr && (!owner || f->entry_sp <= owner->entry_sp)) owner = f;
      if (owner && write_word(mem, addr, owner->orig_ret)) ++fixed;
    }
    at += n * sizeof(uint64_t);
  }
  return fixed;
}

void ReturnProbes::note_fork(pid_t child, const Thread& forking, std::span<const Thread* const> all) {
  ForkCopy copy;
  copy.forking = forking.returns;
  for (const Thread* t : all)
    if (t != &forking) copy.rest.insert(copy.rest.end(), t->returns.frames().begin(), t->returns.frames().end());
  if (copy.forking.empty() && copy.rest.empty()) return;
  forks_[child] = std::move(copy);
}

void ReturnProbes::release_child(pid_t child, MemoryAccess& child_memory, RuntimeAddr trampoline) {
  auto it = forks_.find(child);
  if (it == forks_.end()) return;
  ReturnStack rest;
  rest.frames() = std::move(it->second.rest);
  restore(it->second.forking, child_memory, trampoline);
  restore(rest, child_memory, trampoline);
  forks_.erase(it);
}

void ReturnProbes::adopt_child(pid_t child, Thread& child_thread, MemoryAccess& child_memory, RuntimeAddr trampoline) {
  auto it = forks_.find(child);
  if (it == forks_.end()) return;
  ReturnStack rest;
  rest.frames() = std::move(it->second.rest);
  restore(rest, child_memory, trampoline);
  child_thread.returns = std::move(it->second.forking);
  forks_.erase(it);
}

uint64_t ReturnProbes::real_value(const Thread& t, uint64_t addr, uint64_t value, RuntimeAddr trampoline) const {
  if (value != trampoline.value || !trampoline.value) return value;
  const ReturnFrame* f = t.returns.newest_at_slot(addr);
  return f ? f->orig_ret : value;
}

uint64_t ReturnProbes::real_register(const Thread& t, uint64_t sp, uint64_t value, RuntimeAddr trampoline) const {
  if (value != trampoline.value || !trampoline.value) return value;
  const ReturnFrame* f = t.returns.innermost(sp);
  return f ? f->orig_ret : value;
}

std::vector<std::string> ReturnProbes::take_summary() {
  std::vector<std::string> out;
  if (too_deep_)
    out.push_back(fmt::format("{} returns not traced (nesting deeper than {})", too_deep_, ReturnStack::kMaxDepth));
  if (unreadable_) out.push_back(fmt::format("{} returns not traced (their return address could not be read or replaced)", unreadable_));
  if (unknown_chain_)
    out.push_back(fmt::format("{} returns not traced (a tail call over a return address uptrace has no record of)", unknown_chain_));
  if (unmatched_)
    out.push_back(fmt::format("warning: {} returns reached uptrace's return trampoline with no record of where to go", unmatched_));
  too_deep_ = unreadable_ = unknown_chain_ = unmatched_ = 0;
  return out;
}

}  // namespace uptrace::core
