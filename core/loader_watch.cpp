#include "core/loader_watch.h"

#include <elf.h>
#include <link.h>
#include <signal.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "common/error.h"
#include "core/event_loop.h"
#include "core/proc_info.h"
#include "core/remote_syscalls.h"
#include "elf/module_map.h"

namespace uptrace::core {

namespace {

std::optional<std::vector<elf::Mapping>> current_maps(pid_t pid) {
  try {
    return elf::ModuleMap::read_maps(pid);
  } catch (const Error&) {
    return std::nullopt;
  }
}

// Still the file it was loaded from, where it was loaded: not unmapped, nor
// replaced by another mapping at the same addresses.
bool is_mapped(const std::vector<elf::Mapping>& maps, const ModuleProbes::Loaded& l) {
  return std::any_of(maps.begin(), maps.end(), [&](const elf::Mapping& m) {
    return m.path == l.path && !m.deleted && l.range.start >= m.start && l.range.start < m.end;
  });
}

template <typename T>
bool read_value(TraceeMemory& memory, uint64_t addr, T& out) {
  return memory.read(RuntimeAddr(addr), std::span<uint8_t>(reinterpret_cast<uint8_t*>(&out), sizeof out));
}

size_t user_sites(const std::vector<ProbeSite>& sites) {
  return static_cast<size_t>(
      std::count_if(sites.begin(), sites.end(), [](const ProbeSite& s) { return s.label != kInternalLabel; }));
}

}  // namespace

std::optional<ProbeSite> LoaderWatch::watch_site(Process& proc, std::string& why) {
  const pid_t pid = proc.pid;
  TraceeMemory& memory = proc.space->memory;
  // The executable's program headers, where the kernel mapped them.
  const auto phdr = proc::aux_value(pid, AT_PHDR);
  const auto phnum = proc::aux_value(pid, AT_PHNUM);
  if (!phdr || !phnum || *phnum == 0 || *phnum > 256) {
    why = "its auxiliary vector does not locate the program headers";
    return std::nullopt;
  }
  std::vector<Elf64_Phdr> headers(*phnum);
  if (!memory.read(RuntimeAddr(*phdr), std::span<uint8_t>(reinterpret_cast<uint8_t*>(headers.data()),
                                                          headers.size() * sizeof(Elf64_Phdr)))) {
    why = "its program headers cannot be read";
    return std::nullopt;
  }
  uint64_t bias = 0;
  std::optional<Elf64_Phdr> dynamic;
  for (const Elf64_Phdr& h : headers) {
    if (h.p_type == PT_PHDR) bias = *phdr - h.p_vaddr;
    if (h.p_type == PT_DYNAMIC) dynamic = h;
  }
  if (!dynamic) {
    why = "it is statically linked";
    return std::nullopt;
  }
  // DT_DEBUG: the dynamic linker stores its struct r_debug's address there.
  uint64_t r_debug = 0;
  for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= dynamic->p_memsz; off += sizeof(Elf64_Dyn)) {
    Elf64_Dyn d{};
    if (!read_value(memory, dynamic->p_vaddr + bias + off, d) || d.d_tag == DT_NULL) break;
    if (d.d_tag == DT_DEBUG) r_debug = d.d_un.d_ptr;
  }
  uint64_t r_brk = 0;
  if (!r_debug || !read_value(memory, r_debug + offsetof(struct r_debug, r_brk), r_brk) || !r_brk) {
    why = "its dynamic linker has not published struct r_debug (DT_DEBUG)";
    return std::nullopt;
  }
  elf::ModuleMap map = elf::ModuleMap::read(pid);
  const elf::MappedModule* ld = map.module_containing(RuntimeAddr(r_brk));
  if (!ld) {
    why = fmt::format("its r_brk {:#x} is in no mapped file", r_brk);
    return std::nullopt;
  }
  ProbeSite s;
  s.label = kInternalLabel;
  s.role = ProbeRole::LoaderEvent;
  s.name = fmt::format("the dynamic linker's r_brk ({:#x} in {})", r_brk, ld->path);
  s.addr = s.function_start = RuntimeAddr(r_brk);
  // _dl_debug_state is an empty function (a return); its code as mapped,
  // up to the end of its mapping.
  s.module_path = ld->path;
  s.module_start = ld->mappings.front().start;
  s.module_end = ld->mappings.front().end;
  uint64_t code_end = r_brk;
  for (const elf::Mapping& m : ld->mappings) {
    s.module_start = std::min(s.module_start, m.start);
    s.module_end = std::max(s.module_end, m.end);
    if (RuntimeAddr(r_brk) >= m.start && RuntimeAddr(r_brk) < m.end) code_end = m.end.value;
  }
  s.function_code.resize(std::min<uint64_t>(64, code_end - r_brk));
  if (!memory.read(s.addr, s.function_code)) {
    why = "the code at its r_brk cannot be read";
    return std::nullopt;
  }
  s.jump_unavailable = "uptrace stops here to see libraries come and go";
  proc.space->loader.r_debug = RuntimeAddr(r_debug);
  return s;
}

void LoaderWatch::prepare(Process& proc, std::vector<ModuleProbes> modules, bool track_mapped,
                          std::vector<ProbeSite>& sites) {
  LoaderState& state = proc.space->loader;
  state.origin = proc.pid;
  bool pending = false;
  for (ModuleProbes& m : modules) {
    if (m.loaded && !track_mapped) continue;
    pending |= !m.loaded;
    summary_.push_back({proc.pid, m.name, m.probes, m.loaded.has_value()});
    state.modules.push_back(std::move(m));
  }
  if (state.modules.empty()) return;
  std::string why;
  std::optional<ProbeSite> site = watch_site(proc, why);
  if (site) {
    // The dynamic linker itself is never unloaded, and its r_brk must stay
    // watched: a MODULE: naming it is not followed.
    std::erase_if(state.modules, [&](const ModuleProbes& m) { return m.loaded && m.loaded->range.contains(site->addr); });
    sites.push_back(std::move(*site));
    return;
  }
  if (pending) {
    const ModuleProbes& first = *std::find_if(state.modules.begin(), state.modules.end(),
                                              [](const ModuleProbes& m) { return !m.loaded; });
    throw_runtime("no module '{}' is mapped in pid {}, and uptrace cannot see it loaded later: {}", first.name,
                  proc.pid, why);
  }
  // Only libraries mapped now, and no way to see them go: they stay armed
  // as any other probe.
  state.modules.clear();
}

void LoaderWatch::announce_pending(const Process& proc) const {
  if (!status_) return;
  for (const ModuleProbes& m : proc.space->loader.modules)
    if (!m.loaded)
      status_(fmt::format("{} probes pending in pid {} until {} is loaded", m.probes, proc.pid, m.name));
}

void LoaderWatch::report_never_loaded() const {
  if (!status_) return;
  for (const Summary& s : summary_)
    if (!s.armed)
      status_(fmt::format("{} was never loaded in pid {}: its {} probes never matched", s.name, s.pid, s.probes));
}

void LoaderWatch::on_event(Thread& t, Process& proc, EventLoop& loop) {
  AddressSpace& space = *proc.space;
  if (!space.loader.r_debug.value || space.loader.modules.empty()) return;
  int32_t r_state = r_debug::RT_CONSISTENT;
  if (!read_value(space.memory, space.loader.r_debug.value + offsetof(struct r_debug, r_state), r_state)) return;
  // RT_ADD: nothing is mapped yet; the RT_CONSISTENT that follows tells.
  if (r_state == r_debug::RT_ADD) return;
  // RT_DELETE: see loader_watch.h; what went is found at RT_CONSISTENT.
  if (r_state == r_debug::RT_DELETE) return;
  bool stopped = false;
  auto stop_world = [&] {
    if (!stopped) loop.stop_world();
    stopped = true;
  };
  reconcile(proc, t, stop_world);
  if (!stopped) return;
  // `t` waits for its caller, which steps it over r_brk's instruction.
  const pid_t tid = t.tid;
  t.stopped = false;
  loop.resume_world();
  if (Thread* again = session_.thread(tid)) again->stopped = true;
}

void LoaderWatch::retire(Process& proc, AddressRange range, bool restore) {
  AddressSpace& space = *proc.space;
  const arch::Isa& isa = control_.isa();
  // A thread that hit one of these traps before the world stopped would,
  // with the trap gone, get a SIGTRAP that is not ours: it runs the
  // original instruction instead (the probe was disarmed first).
  for (auto& [tid, t] : session_.threads()) {
    Process* p = session_.process(t.pid);
    if (!p || p->space.get() != &space || !t.pending || t.pending->kind != Stop::Kind::Signal ||
        t.pending->signal != SIGTRAP)
      continue;
    siginfo_t si{};
    arch::Regs regs;
    if (!control_.siginfo(tid, si) || !control_.regs(tid, regs)) continue;
    const auto bp = isa.breakpoint_address(isa.pc(regs), si.si_code);
    if (!bp || !range.contains(*bp) || space.site_index(*bp) < 0) continue;
    isa.set_pc(regs, bp->value);
    control_.set_regs(tid, regs);
    t.pending = Stop{Stop::Kind::Interrupt, tid};
  }
  if (restore) {
    if (size_t failed = space.journal.revert_range(range); failed && status_)
      status_(fmt::format("warning: {} patches could not be restored in pid {}", failed, proc.pid));
  } else {
    space.journal.forget_range(range);
  }
  for (auto it = space.site_at.begin(); it != space.site_at.end();) {
    if (range.contains(RuntimeAddr(it->first)))
      it = space.site_at.erase(it);
    else
      ++it;
  }
}

void LoaderWatch::release_dead_slots(Process& proc, Thread& injector) {
  AddressSpace& space = *proc.space;
  const arch::Isa& isa = control_.isa();
  // Where the threads sharing this space are, and whose copies they step.
  std::vector<uint64_t> pcs;
  std::set<int> stepping;
  for (auto& [tid, t] : session_.threads()) {
    Process* p = session_.process(t.pid);
    if (!p || p->space.get() != &space) continue;
    arch::Regs regs;
    if (control_.regs(tid, regs)) pcs.push_back(isa.pc(regs));
    if (t.stepping()) stepping.insert(t.stepping_site);
  }
  std::vector<AddressRange> keep, dead;
  for (const AddressRange& r : space.scratch) {
    bool holds_sites = false, live = r.contains(space.return_trampoline);
    for (size_t i = 0; i < space.sites.size() && !live; ++i) {
      const ArmedSite& s = space.sites[i];
      if (!r.contains(s.slot)) continue;
      holds_sites = true;
      live = space.site_index(s.addr) == static_cast<int>(i) || stepping.count(static_cast<int>(i));
    }
    live |= std::any_of(pcs.begin(), pcs.end(), [&](uint64_t pc) { return r.contains(RuntimeAddr(pc)); });
    (live || !holds_sites ? keep : dead).push_back(r);
  }
  if (dead.empty()) return;
  try {
    RemoteSyscalls remote(control_, injector, space);
    for (const AddressRange& r : dead) remote.call(arch::Syscall::Munmap, {r.start.value, r.end.value - r.start.value});
  } catch (const Error& e) {
    if (status_) status_(fmt::format("warning: {}", e.what()));
    return;
  }
  // A new mapping may come to the same addresses: the dead sites must not
  // claim a thread found there (AddressSpace::slot_owner).
  for (ArmedSite& s : space.sites)
    for (const AddressRange& r : dead)
      if (r.contains(s.slot)) s.slot = RuntimeAddr(0);
  space.scratch = std::move(keep);
}

void LoaderWatch::forget_unmapped(Process& proc) {
  AddressSpace& space = *proc.space;
  if (std::none_of(space.loader.modules.begin(), space.loader.modules.end(),
                   [](const ModuleProbes& m) { return m.loaded && m.loaded->armed; }))
    return;
  const std::optional<std::vector<elf::Mapping>> maps = current_maps(proc.pid);
  if (!maps) return;
  for (ModuleProbes& m : space.loader.modules) {
    if (!m.loaded || is_mapped(*maps, *m.loaded)) continue;
    if (m.loaded->armed) retire(proc, m.loaded->range, false);
    m.loaded.reset();
  }
}

void LoaderWatch::reconcile(Process& proc, Thread& event_thread, const std::function<void()>& stop_world) {
  AddressSpace& space = *proc.space;
  const std::optional<std::vector<elf::Mapping>> maps = current_maps(proc.pid);
  if (!maps) return;  // the process is going
  auto still_mapped = [&](const ModuleProbes::Loaded& l) { return is_mapped(*maps, l); };
  bool release_slots = false;
  for (ModuleProbes& m : space.loader.modules) {
    if (m.loaded) {
      if (still_mapped(*m.loaded)) continue;
      // Unloaded: its bytes are gone with it.
      stop_world();
      if (m.loaded->armed) retire(proc, m.loaded->range, false);
      release_slots = true;
      m.loaded.reset();
    }
    std::optional<std::vector<ProbeSite>> sites;
    try {
      if (resolve_) sites = resolve_(proc.pid, m);
    } catch (const Error& e) {
      if (status_) status_(fmt::format("warning: the probes on {} cannot be resolved in pid {}: {}", m.name, proc.pid, e.what()));
      continue;
    }
    if (!sites || sites->empty()) continue;
    ModuleProbes::Loaded loaded;
    loaded.path = sites->front().module_path;
    loaded.range = {sites->front().module_start, sites->front().module_end};
    const size_t n = user_sites(*sites);
    stop_world();
    try {
      arming_.arm(proc, std::move(*sites), &event_thread);
    } catch (const Error& e) {
      if (status_) status_(fmt::format("warning: the probes on {} cannot be armed in pid {}: {}", m.name, proc.pid, e.what()));
      retire(proc, loaded.range, true);  // sites written before the failure, without their traps
      loaded.armed = false;
      m.loaded = loaded;
      continue;
    }
    m.loaded = loaded;
    for (Summary& s : summary_)
      if (s.pid == space.loader.origin && s.name == m.name) s.armed = true;
    if (status_) status_(fmt::format("{} probes armed in {} in pid {}", n, m.name, proc.pid));
  }
  // The slots of libraries that are gone, unless a thread is still in one.
  if (release_slots) release_dead_slots(proc, event_thread);
}

}  // namespace uptrace::core
