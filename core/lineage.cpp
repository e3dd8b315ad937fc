#include "core/lineage.h"

#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/error.h"
#include "core/proc_info.h"
#include "core/remote_syscalls.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

namespace uptrace::core {

Thread* Lineage::on_new_tracee(pid_t tid, const Stop& first_stop, bool world_stopped) {
  const pid_t tgid = proc::thread_group_of(tid);
  if (Process* p = tgid != 0 ? session_.process(tgid) : nullptr) {
    Thread& t = session_.add_thread(tid, tgid);
    t.stopped = true;
    t.pending = first_stop;
    jump_.learn_thread(*p, tid);
    return &t;
  }
  auto it = expected_children_.find(tid);
  if (it == expected_children_.end() || world_stopped) {
    early_stops_[tid] = first_stop;
    return nullptr;
  }
  auto [parent, shares_memory] = it->second;
  expected_children_.erase(it);
  settle_child(tid, parent, shares_memory);
  return nullptr;
}

void Lineage::on_fork(Thread& parent, const Stop& stop) {
  const pid_t child = stop.new_tid;
  if (child <= 0) return;
  Process* pp = session_.process(parent.pid);
  if (stop.kind == Stop::Kind::Clone) {
    // A new thread is added at its first stop; a clone without
    // CLONE_THREAD makes a process that shares our code pages.
    const pid_t tgid = proc::thread_group_of(child);
    if (tgid == 0 || tgid == parent.pid) {
      if (pp) jump_.on_clone(*pp, parent.tid);
      return;
    }
  }
  const bool shares_memory = stop.kind != Stop::Kind::Fork;
  if (pp && stop.kind == Stop::Kind::Vfork) jump_.on_vfork(*pp, parent.tid, child);
  if (!shares_memory) {
    std::vector<const Thread*> all;
    for (Thread* other : session_.threads_of(parent.pid)) all.push_back(other);
    returns_.note_fork(child, parent, all);
  }
  if (early_stops_.erase(child)) settle_child(child, parent.pid, shares_memory);
  else expected_children_[child] = {parent.pid, shares_memory};
}

void Lineage::settle_early_children() {
  for (auto it = early_stops_.begin(); it != early_stops_.end();) {
    auto expected = expected_children_.find(it->first);
    if (expected == expected_children_.end()) {
      ++it;
      continue;
    }
    auto [parent, shares] = expected->second;
    const pid_t child = it->first;
    expected_children_.erase(expected);
    it = early_stops_.erase(it);
    settle_child(child, parent, shares);
  }
}

void Lineage::settle_child(pid_t child, pid_t parent, bool shares_memory) {
  Process* pp = session_.process(parent);
  if (!shares_memory && follow_forks_ && pp && pp->space) {
    follow_child(child, *pp);
    return;
  }
  if (!shares_memory) {
    // Rule 6: the child's copy of the code gets the original bytes back
    // before it runs. Our slots were not copied (MADV_DONTFORK).
    if (pp && pp->space) {
      TraceeMemory child_memory(child);
      pp->space->journal.revert_all_in(child_memory);
      returns_.release_child(child, child_memory, pp->space->return_trampoline);
    }
    control_.detach(child);
    return;
  }
  // A vfork child runs on its parent's (patched) memory until it execs or
  // exits: its probe hits must execute correctly; they are reported with -f.
  std::shared_ptr<AddressSpace> space = pp ? pp->space : nullptr;
  Process& cp = session_.add_process(child);
  cp.space = std::move(space);
  cp.report_hits = follow_forks_;
  cp.detach_on_exec = true;
  Thread& t = session_.add_thread(child, child);
  t.stopped = true;
  stepper_.resume(t);
}

void Lineage::let_go(Process& child, const Process& parent, const std::string& why) {
  if (status_) status_(fmt::format("cannot follow pid {}: {}", child.pid, why));
  AddressSpace& space = *child.space;
  space.journal.revert_all();
  returns_.release_child(child.pid, space.memory, parent.space->return_trampoline);
  if (Thread* t = session_.thread(child.pid)) {
    try {
      RemoteSyscalls remote(control_, *t, space);
      for (const AddressRange& mine : space.scratch)
        remote.call(arch::Syscall::Munmap, {mine.start.value, mine.end.value - mine.start.value});
    } catch (const Error&) {
    }
  }
  const pid_t pid = child.pid;
  session_.remove_process(pid);
  control_.detach(pid);
}

void Lineage::follow_child(pid_t child, Process& parent) {
  // The child has the parent's patched code but not its slots: give it the
  // same slots at the same addresses, and a journal of its own.
  Process& cp = session_.add_process(child);
  cp.space = std::make_shared<AddressSpace>(child);
  AddressSpace& space = *cp.space;
  space.journal.inherit(parent.space->journal);
  Thread& t = session_.add_thread(child, child);
  t.stopped = true;
  t.pending = Stop{Stop::Kind::Interrupt, child};
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  try {
    RemoteSyscalls remote(control_, t, space);
    for (const AddressRange& r : parent.space->scratch) {
      const uint64_t size = r.end.value - r.start.value;
      const int64_t got = remote.call(arch::Syscall::Mmap, {r.start.value, size, PROT_READ | PROT_EXEC,
                                                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                                                            static_cast<uint64_t>(-1), 0});
      if (got > 0 && static_cast<uint64_t>(got) % page == 0)
        space.scratch.push_back({RuntimeAddr(static_cast<uint64_t>(got)), RuntimeAddr(static_cast<uint64_t>(got) + size)});
      // Without its slots the child cannot run the probed instructions.
      if (static_cast<uint64_t>(got) != r.start.value) throw_runtime("its slots cannot be mapped");
      remote.call(arch::Syscall::Madvise, {r.start.value, size, MADV_DONTFORK});
    }
  } catch (const Error& e) {
    let_go(cp, parent, e.what());
    return;
  }
  // Before the slots are written: the ring's name borrows the first one.
  if (parent.jump.ring && !space.scratch.empty()) {
    try {
      jump_.create_ring(cp, t, space.scratch.front().start, parent.jump.ring->target_address());
      cp.jump.probes = parent.jump.probes;
    } catch (const Error& e) {
      let_go(cp, parent, e.what());  // its trampolines would write to nowhere
      return;
    }
  }
  for (const ArmedSite& site : parent.space->sites) {
    std::vector<uint8_t> code = site.plan->slot_code();
    if (!code.empty()) space.memory.write_or_throw(site.slot, code);
    space.sites.push_back(ArmedSite{site.addr, site.slot, site.plan, site.probes, site.return_spill, site.relay});
  }
  // The same indices; sites of libraries unloaded before the fork are not in it.
  space.site_at = parent.space->site_at;
  space.loader = parent.space->loader;
  space.free_running = parent.space->free_running;
  if (parent.space->return_trampoline.value) {
    space.return_trampoline = parent.space->return_trampoline;
    space.memory.write_or_throw(space.return_trampoline, isa_.breakpoint());
    returns_.adopt_child(child, t, space.memory, space.return_trampoline);
  }
  stepper_.resume(t);
}

void Lineage::on_exec(Thread& t, pid_t main_pid) {
  const pid_t pid = t.pid;
  // Every other thread is gone; the exec'ing thread now has the leader's tid.
  for (Thread* other : session_.threads_of(pid))
    if (other->tid != t.tid) session_.remove_thread(other->tid);
  Process* p = session_.process(pid);
  if (p) jump_.finish(*p);  // what it recorded before the exec; no other thread is left to write
  if (p && (p->detach_on_exec || (pid != main_pid && follow_forks_))) {
    if (status_ && pid != main_pid && follow_forks_)
      status_(fmt::format("pid {} executed a new program; uptrace detached from it", pid));
    session_.remove_process(pid);
    control_.detach(pid);
    return;
  }
  if (p && p->space && !p->space->sites.empty() && status_)
    status_(fmt::format("pid {} executed a new program; its {} probes are gone", pid, p->space->sites.size()));
  if (p) {
    p->space = std::make_shared<AddressSpace>(pid);
    jump_.forget(*p);
  }
  t.xol = XolState::Idle;
  t.stepping_site = -1;
  t.waiting_for_ring.reset();
  t.returns.clear();
  control_.run(t);
}

void Lineage::release_child_of(Thread& t) {
  const Stop::Kind k = t.pending->kind;
  const pid_t child = t.pending->new_tid;
  t.pending = Stop{Stop::Kind::Interrupt, t.tid};
  const bool known = early_stops_.erase(child) || session_.thread(child);
  if (!known && control_.wait_stop(child).thread_gone()) return;
  if (k == Stop::Kind::Clone && proc::thread_group_of(child) == t.pid) {
    // A new thread: it is let go with the others.
    if (!session_.thread(child)) {
      Thread& nt = session_.add_thread(child, t.pid);
      nt.stopped = true;
      nt.pending = Stop{Stop::Kind::Interrupt, child};
    }
    return;
  }
  // Here even a vfork child is detached: its parent's code is restored later.
  Process* pp = session_.process(t.pid);
  if (k == Stop::Kind::Fork && pp && pp->space) {
    TraceeMemory child_memory(child);
    pp->space->journal.revert_all_in(child_memory);
    // The parent is still at its fork stop: its frames are the child's.
    for (Thread* other : session_.threads_of(t.pid)) {
      ReturnStack copy = other->returns;
      returns_.restore(copy, child_memory, pp->space->return_trampoline);
    }
  }
  control_.detach(child);
}

}  // namespace uptrace::core
