#include "core/arming.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "core/remote_syscalls.h"
#include "core/site_check.h"
#include "elf/module_map.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

namespace uptrace::core {

namespace {

uint64_t page_size() { return static_cast<uint64_t>(::sysconf(_SC_PAGESIZE)); }

// What a group's slots must be near: its module, unless the module spans
// more than one mapping can serve (node remaps part of its text high; a
// library near the top and the executable near the bottom under one name;
// on riscv64, whose jal reaches 1 MiB, any library larger than 512 KiB),
// then its function.
AddressRange reach_of(const ProbeSite& s, uint64_t slot_reach) {
  const uint64_t one_mapping_reach = std::min(slot_reach, uint64_t{1} << 30) / 2;
  if (s.module_end.value > s.module_start.value && s.module_end.value - s.module_start.value <= one_mapping_reach)
    return {s.module_start, s.module_end};
  return {s.function_start, s.function_start + std::max<uint64_t>(s.function_code.size(), 1)};
}

std::set<uint64_t> addresses_of(const std::vector<std::vector<ProbeSite*>>& groups) {
  std::set<uint64_t> out;
  for (const auto& g : groups) out.insert(g.front()->addr.value);
  return out;
}

}  // namespace

std::vector<std::vector<ProbeSite*>> group_by_address(std::vector<ProbeSite>& sites) {
  std::vector<std::vector<ProbeSite*>> groups;
  std::map<uint64_t, size_t> index;
  for (ProbeSite& s : sites) {
    auto [it, inserted] = index.emplace(s.addr.value, groups.size());
    if (inserted) groups.emplace_back();
    groups[it->second].push_back(&s);
  }
  return groups;
}

ScratchPlan plan_slots(const arch::Isa& isa, const std::vector<std::vector<const ProbeSite*>>& groups,
                       bool with_return_trampoline, pid_t pid) {
  std::vector<AddressRange> reaches, occupied;
  for (const auto& g : groups) reaches.push_back(reach_of(*g.front(), isa.slot_reach()));
  for (const elf::Mapping& m : elf::ModuleMap::read_maps(pid)) occupied.push_back({m.start, m.end});
  return plan_scratch(reaches, isa.slot_size(), with_return_trampoline ? isa.slot_size() : 0, std::move(occupied),
                      page_size(), pid, isa.slot_reach());
}

void Arming::check_before_attach(const arch::Isa& isa, const PlanRequest& request, const std::vector<ProbeSite>& sites,
                                 MemoryAccess* live) {
  for (const ProbeSite& s : sites) {
    // The slot is not mapped yet; assume one near the site, as it will be.
    const ProbeSite* one[] = {&s};
    SiteVerdict v = check_site(isa, one, provisional_slot(isa, s.addr), request, kProvisionalRing, 0, SiteEnvironment{live});
    if (!v.refusal.empty()) throw_runtime("cannot probe {}: {}", s.name, v.refusal);
  }
}

RuntimeAddr Arming::map_scratch(Process& proc, Thread& injector, const ScratchRegion& region) {
  RemoteSyscalls remote(control_, injector, *proc.space);
  int64_t r = remote.call(arch::Syscall::Mmap, {region.base.value, region.size, PROT_READ | PROT_EXEC,
                                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                                                static_cast<uint64_t>(-1), 0});
  if (r < 0 && r > -4096)
    throw_runtime("mmap of uptrace's slots in pid {} failed: {}", proc.pid, errno_text(static_cast<int>(-r)));
  const RuntimeAddr got(static_cast<uint64_t>(r));
  proc.space->scratch.push_back({got, got + region.size});
  if (got != region.base)
    throw_runtime("mmap of uptrace's slots in pid {} ignored the address {:#x}", proc.pid, region.base.value);
  // A forked child must not inherit the slots (DESIGN rule 6).
  remote.call(arch::Syscall::Madvise, {region.base.value, region.size, MADV_DONTFORK});
  return region.base;
}

std::map<pid_t, uint64_t> Arming::thread_pcs(const Process& proc) {
  std::map<pid_t, uint64_t> pcs;
  for (pid_t tid : proc.threads) {
    arch::Regs regs;
    if (control_.regs(tid, regs)) pcs[tid] = isa_.pc(regs);
  }
  return pcs;
}

void Arming::arm(Process& proc, std::vector<ProbeSite> sites, Thread* injector) {
  AddressSpace& space = *proc.space;
  // Armed again for a library loaded later: only this call's sites get
  // their traps below; the others have theirs (or are gone with their module).
  const size_t first_new = space.sites.size();
  if (!injector) injector = session_.any_thread_of(proc.pid);
  if (!injector) throw_runtime("pid {} has no thread left to arm probes with", proc.pid);
  if (stack_)
    for (ProbeSite& s : sites)
      if (s.jump_unavailable.empty()) s.jump_unavailable = "--stack unwinds the thread's stack at a stop";

  std::vector<std::vector<ProbeSite*>> groups = group_by_address(sites);
  // Slots: one mapping per region of probed code; %return needs one more
  // slot, for the return trampoline.
  const bool returns = std::any_of(sites.begin(), sites.end(), [](const ProbeSite& s) { return s.role == ProbeRole::Return; });
  const bool need_trampoline = returns && !space.return_trampoline.value;
  std::vector<std::vector<const ProbeSite*>> const_groups;
  for (const auto& g : groups) const_groups.emplace_back(g.begin(), g.end());
  ScratchPlan slots = plan_slots(isa_, const_groups, need_trampoline, proc.pid);
  if (!slots.error.empty()) throw_runtime("{}", slots.error);
  std::vector<RuntimeAddr> slot_of(groups.size());
  for (size_t r = 0; r < slots.regions.size(); ++r) {
    const ScratchRegion& region = slots.regions[r];
    const RuntimeAddr base = map_scratch(proc, *injector, region);
    for (size_t k = 0; k < region.members.size(); ++k) slot_of[region.members[k]] = base + k * isa_.slot_size();
    if (r == 0 && need_trampoline) {
      space.return_trampoline = base + region.members.size() * isa_.slot_size();
      space.memory.write_or_throw(space.return_trampoline, isa_.breakpoint());
    }
  }

  // Jump mode: no thread's pc may be inside the bytes a jump overwrites;
  // the ring is made once a site can use it.
  const bool want_jump = request_.mode == arch::ModeRequest::Auto || request_.mode == arch::ModeRequest::Jump;
  const std::set<uint64_t> addresses = addresses_of(groups);
  const std::map<pid_t, uint64_t> pcs = want_jump ? thread_pcs(proc) : std::map<pid_t, uint64_t>{};
  const SiteEnvironment env{&space.memory, &addresses, &pcs};
  if (want_jump && !proc.jump.ring) {
    for (size_t i = 0; i < groups.size(); ++i) {
      SiteVerdict v = check_site(isa_, groups[i], slot_of[i], request_for(groups[i]), kProvisionalRing, 0, env);
      if (!v.plan.analysis.plan || v.plan.analysis.plan->mode() != arch::ExecMode::Jump) continue;
      try {
        jump_.create_ring(proc, *injector, slot_of[i]);
      } catch (const Error& e) {
        if (request_.mode == arch::ModeRequest::Jump) throw;
        for (ProbeSite& site : sites) site.jump_unavailable = fmt::format("no ring for jump probes: {}", e.what());
      }
      break;
    }
  }
  const std::optional<RuntimeAddr> ring =
      proc.jump.ring ? std::optional(proc.jump.ring->target_address()) : std::nullopt;
  for (size_t i = 0; i < groups.size(); ++i) {
    SiteVerdict v = check_site(isa_, groups[i], slot_of[i], request_for(groups[i]), ring,
                               static_cast<uint32_t>(proc.jump.probes.size()), env);
    if (!v.refusal.empty()) throw_runtime("cannot probe {}: {}", groups[i].front()->name, v.refusal);
    write_site(proc, groups[i], slot_of[i], std::move(v));
  }
  // Relays, then traps last: until here nothing the program runs has
  // changed, and nothing runs a relay before its site's jump is there.
  for (size_t i = first_new; i < space.sites.size(); ++i)
    if (auto relay = space.sites[i].plan->relay()) space.journal.patch(relay->at, relay->bytes);
  for (size_t i = first_new; i < space.sites.size(); ++i) space.journal.patch(space.sites[i].addr, site_patch(space.sites[i]));
  // Then the markers' semaphores, once their probes are there to be hit.
  for (const ProbeSite& s : sites)
    if (s.semaphore) space.journal.raise_counter(*s.semaphore);
}

std::vector<uint8_t> Arming::site_patch(const ArmedSite& site) const {
  std::vector<uint8_t> patch = site.plan->site_patch();
  if (patch.empty()) patch.assign(isa_.breakpoint().begin(), isa_.breakpoint().end());
  return patch;
}

PlanRequest Arming::request_for(const std::vector<ProbeSite*>& group) const {
  // The dynamic linker's event is uptrace's own and must stop the thread,
  // whatever mode the user forced on their probes.
  const bool loader_only = std::all_of(group.begin(), group.end(),
                                       [](const ProbeSite* p) { return p->role == ProbeRole::LoaderEvent; });
  if (!loader_only || request_.mode == arch::ModeRequest::Auto) return request_;
  PlanRequest r = request_;
  r.mode = arch::ModeRequest::Auto;
  return r;
}

void Arming::write_site(Process& proc, std::vector<ProbeSite*>& group, RuntimeAddr slot, SiteVerdict verdict) {
  AddressSpace& space = *proc.space;
  std::unique_ptr<arch::ProbePlan>& plan = verdict.plan.analysis.plan;
  if (plan->mode() == arch::ExecMode::Jump) {
    for (size_t k = 0; k < verdict.plan.jump.records.size(); ++k)
      proc.jump.probes.push_back({static_cast<uint32_t>(space.sites.size()), static_cast<uint32_t>(k),
                                  std::move(verdict.plan.jump.records[k].words)});
  }
  const std::vector<uint8_t> code = plan->slot_code();
  if (!code.empty()) space.memory.write_or_throw(slot, code);
  if (plan->mode() == arch::ExecMode::Boost || plan->mode() == arch::ExecMode::Jump) space.free_running = true;
  const RuntimeAddr relay = plan->relay() ? plan->relay()->at : RuntimeAddr(0);
  ArmedSite armed{group.front()->addr, slot, std::move(plan), {}, std::nullopt, relay};
  for (ProbeSite* p : group) {
    reporter_.count_label(p->label);
    armed.probes.push_back({p->label, std::move(p->fetch), p->role, std::move(p->filter)});
    if (p->role == ProbeRole::Return) armed.return_spill = p->return_spill;
  }
  space.site_at[armed.addr.value] = static_cast<uint32_t>(space.sites.size());
  space.sites.push_back(std::move(armed));
}

}  // namespace uptrace::core
