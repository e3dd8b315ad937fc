#include "core/jump_hits.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "common/error.h"
#include "common/ring_layout.h"
#include "core/remote_syscalls.h"
#include "core/site_plan.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

namespace uptrace::core {

namespace {

// Jump records carry registers only (FetchProgram::register_captures): any
// memory read is a bug, and fails as a fault value.
class NoMemory final : public MemoryAccess {
 public:
  bool read(RuntimeAddr, std::span<uint8_t>) override { return false; }
  bool write(RuntimeAddr, std::span<const uint8_t>) override { return false; }
};

}  // namespace

void JumpHits::create_ring(Process& proc, Thread& t, RuntimeAddr scratch, std::optional<RuntimeAddr> at) {
  static constexpr char kName[] = "uptrace-ring";
  AddressSpace& space = *proc.space;
  space.memory.write_or_throw(scratch, std::span(reinterpret_cast<const uint8_t*>(kName), sizeof kName));
  const uint64_t capacity = jump_ring_capacity();
  const uint64_t bytes = SharedRing::bytes(capacity);
  RemoteSyscalls remote(control_, t, space);
  const int64_t fd = remote.call(arch::Syscall::MemfdCreate, {scratch.value, MFD_CLOEXEC});
  if (fd < 0) throw_runtime("memfd_create in pid {} failed: {}", proc.pid, errno_text(static_cast<int>(-fd)));
  struct CloseInTarget {
    RemoteSyscalls& remote;
    int64_t fd;
    ~CloseInTarget() {
      try {
        remote.call(arch::Syscall::Close, {static_cast<uint64_t>(fd)});
      } catch (const Error&) {
      }
    }
  } close_fd{remote, fd};
  if (int64_t got = remote.call(arch::Syscall::Ftruncate, {static_cast<uint64_t>(fd), bytes}); got < 0)
    throw_runtime("sizing the ring in pid {} failed: {}", proc.pid, errno_text(static_cast<int>(-got)));
  const int64_t got = remote.call(arch::Syscall::Mmap, {at ? at->value : 0, bytes, PROT_READ | PROT_WRITE,
                                                        static_cast<uint64_t>(MAP_SHARED | (at ? MAP_FIXED_NOREPLACE : 0)),
                                                        static_cast<uint64_t>(fd), 0});
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  if (got < 0 || static_cast<uint64_t>(got) % page != 0 || (at && static_cast<uint64_t>(got) != at->value)) {
    if (got > 0) remote.call(arch::Syscall::Munmap, {static_cast<uint64_t>(got), bytes});
    throw_runtime("mapping the ring in pid {} failed: {}", proc.pid,
                  got < 0 ? errno_text(static_cast<int>(-got)) : "wrong address");
  }
  const RuntimeAddr address(static_cast<uint64_t>(got));
  space.ring = AddressRange{address, address + bytes};
  proc.jump.ring = std::make_unique<SharedRing>(proc.pid, static_cast<int>(fd), address, capacity);
  remote.call(arch::Syscall::Madvise, {address.value, bytes, MADV_DONTFORK});
  for (pid_t tid : proc.threads) learn_thread(proc, tid);
  update_thread_id_mode(proc);
}

// Trampolines read the self pointer only when every thread has a thread
// pointer (until then a record's thread is the process's), and ask the
// kernel once any thread's pointer turned out not to point to itself.
void JumpHits::update_thread_id_mode(Process& proc) {
  JumpRing& jump = proc.jump;
  if (!jump.ring) return;
  if (jump.kernel_tids) {
    jump.ring->set_thread_id_mode(ring::kKernelTid);
    return;
  }
  for (pid_t tid : proc.threads)
    if (jump.pointer_of_thread[tid] == 0) {
      jump.ring->set_thread_id_mode(ring::kNoThreadIds);
      return;
    }
  jump.ring->set_thread_id_mode(ring::kSelfPointer);
}

bool JumpHits::any_ring() const {
  return std::any_of(session_.processes().begin(), session_.processes().end(),
                     [](const auto& kv) { return kv.second.jump.ring != nullptr; });
}

SharedRing::Taker JumpHits::reporter_for(Process& proc) {
  // Who wrote a record, by its thread pointer: looked up again only when
  // the pointer changes, as runs of records mostly come from one thread.
  struct Writer {
    uint64_t pointer = 0;
    pid_t pid = 0, tid = 0;
    bool unreported = false;  // a vfork child's, without -f
  };
  struct State {
    std::optional<Writer> last;
    arch::Regs regs;
    NoMemory no_memory;
  };
  auto state = std::make_shared<State>();
  return [this, &proc, state](const ring::Record& r) {
    JumpRing& jump = proc.jump;
    if (!reporter_.reporting() || !proc.report_hits || r.probe >= jump.probes.size()) return reporter_.reporting();
    if (!state->last || state->last->pointer != r.thread) {
      Writer w{r.thread, proc.pid, proc.pid, false};
      std::optional<pid_t> vfork_child;
      if (r.thread & ring::kTidTag) {
        w.tid = static_cast<pid_t>(r.thread & ~ring::kTidTag);
        if (jump.vfork_children.count(w.tid)) vfork_child = w.tid;
      } else {
        auto owner = jump.thread_by_pointer.find(r.thread);
        if (r.thread != 0 && owner != jump.thread_by_pointer.end()) {
          w.tid = owner->second;
        } else if (r.thread != 0 && !jump.kernel_tids) {
          // A thread pointer no thread had when uptrace looked (a thread that
          // moved its fs base since): the later records ask the kernel.
          jump.kernel_tids = true;
          update_thread_id_mode(proc);
        }
        if (auto child = jump.vfork_child_by_pointer.find(r.thread); child != jump.vfork_child_by_pointer.end())
          vfork_child = child->second;
      }
      if (vfork_child) {
        w.unreported = !follow_forks_;  // as with traps: vfork children are reported only with -f
        w.pid = w.tid = *vfork_child;
      }
      state->last = w;
    }
    if (state->last->unreported) return true;
    const JumpRing::Probe& jp = jump.probes[r.probe];
    const ArmedSite& site = proc.space->sites[jp.site];
    const ArmedSite::Probe& probe = site.probes[jp.probe];
    for (size_t i = 0; i < jp.words.size() && i < ring::kMaxValues; ++i) state->regs.words[jp.words[i]] = r.values[i];
    Hit& hit = reporter_.hit();
    hit.time_ns = reporter_.cycles_to_ns(r.time);
    hit.pid = state->last->pid;
    hit.tid = state->last->tid;
    hit.addr = site.addr;
    hit.stack.clear();
    hit.entry_time_ns.reset();  // returns are caught at stops, never by a trampoline
    probe.fetch.evaluate(state->regs, site.addr.value, state->no_memory, hit.values);
    return reporter_.report(probe.label);
  };
}

bool JumpHits::drain(Process& proc, size_t limit) {
  if (!proc.jump.ring || holding_) return false;
  reporter_.recalibrate();
  limit = std::min(limit, proc.jump.ring->capacity());
  return proc.jump.ring->drain(reporter_for(proc), limit) == limit;
}

bool JumpHits::drain_all(size_t limit) {
  bool more = false;
  for (auto& [pid, p] : session_.processes()) more |= drain(p, limit);
  return more;
}

void JumpHits::finish(Process& proc) {
  if (!proc.jump.ring) return;
  if (holding_) {
    // Read once the target is let go (finish_held).
    Process kept;
    kept.pid = proc.pid;
    kept.space = proc.space;
    kept.report_hits = proc.report_hits;
    kept.jump = std::move(proc.jump);
    proc.jump = JumpRing{};
    held_.push_back(std::move(kept));
    return;
  }
  reporter_.recalibrate();
  const uint64_t unfinished = proc.jump.ring->finish(reporter_for(proc));
  proc.jump.ring.reset();
  if (unfinished)
    reporter_.lost(proc.pid, unfinished, "their threads ended while the jump trampoline was writing their records");
}

void JumpHits::finish_held() {
  for (Process& p : held_) finish(p);
  held_.clear();
}

void JumpHits::learn_thread(Process& proc, pid_t tid) {
  JumpRing& jump = proc.jump;
  if (!jump.ring) return;
  uint64_t pointer = 0;
  if (!control_.thread_pointer(tid, pointer)) return;
  // Records written under the old owner of a reused pointer go to it.
  drain(proc);
  jump.pointer_of_thread[tid] = pointer;
  if (pointer != 0) {
    jump.thread_by_pointer[pointer] = tid;
    uint64_t self = 0;
    if (!isa_.jump_records_thread_pointer() &&
        proc.space->memory.read(RuntimeAddr(pointer), {reinterpret_cast<uint8_t*>(&self), sizeof self}) &&
        self != pointer)
      jump.kernel_tids = true;
    // Two live threads with one thread pointer (a clone without CLONE_SETTLS
    // keeps its parent's) cannot be told apart by it.
    for (pid_t other : proc.threads)
      if (other != tid && jump.pointer_of_thread.count(other) && jump.pointer_of_thread[other] == pointer)
        jump.kernel_tids = true;
  }
  update_thread_id_mode(proc);
}

// A launched program gets its thread pointer after the entry point, so
// trampolines start without thread ids; by the time it makes a second
// thread, the first has one.
void JumpHits::on_clone(Process& proc, pid_t parent) {
  if (!proc.jump.ring) return;
  learn_thread(proc, parent);
}

uint64_t JumpHits::record_key(Process& proc, pid_t tid) {
  if (!proc.jump.ring || proc.jump.ring->thread_id_mode() != ring::kSelfPointer) return 0;
  learn_thread(proc, tid);
  return proc.jump.pointer_of_thread[tid];
}

void JumpHits::on_vfork(Process& proc, pid_t parent, pid_t child) {
  if (!proc.jump.ring) return;
  drain(proc);
  proc.jump.vfork_child_by_pointer[record_key(proc, parent)] = child;
  proc.jump.vfork_children.insert(child);
}

void JumpHits::on_vfork_done(Process& proc, pid_t parent) {
  if (!proc.jump.ring) return;
  drain(proc);  // the last of the child's records
  const uint64_t key = record_key(proc, parent);
  if (auto it = proc.jump.vfork_child_by_pointer.find(key); it != proc.jump.vfork_child_by_pointer.end()) {
    proc.jump.vfork_children.erase(it->second);
    proc.jump.vfork_child_by_pointer.erase(it);
  }
}

void JumpHits::forget(Process& proc) { proc.jump = JumpRing{}; }

Process* JumpHits::ring_owner(Process& proc) {
  if (proc.jump.ring) return &proc;
  for (auto& [pid, other] : session_.processes())
    if (other.jump.ring && other.space == proc.space) return &other;
  return nullptr;
}

void JumpHits::make_room(Process& proc) {
  Process* owner = ring_owner(proc);
  if (!owner) return;
  if (holding_) owner->jump.ring->make_room();
  else drain(*owner, kDrainChunk);
}

void JumpHits::on_ring_full(Thread& t, RuntimeAddr trap) {
  Process* proc = session_.process(t.pid);
  if (!proc) return;
  make_room(*proc);
  t.waiting_for_ring = trap;
  // Room is still short while another writer holds a reservation it has
  // not published (preempted half way): wait for the next drain.
  if (Process* owner = ring_owner(*proc); owner && owner->jump.ring->full()) return;
  release(t, false);
}

bool JumpHits::make_room_now(Thread& t, RuntimeAddr trap) {
  Process* proc = session_.process(t.pid);
  if (!proc) return false;
  make_room(*proc);
  if (Process* owner = ring_owner(*proc); owner && owner->jump.ring->full()) return false;
  t.waiting_for_ring = trap;
  release(t, true);
  return true;
}

void JumpHits::release(Thread& t, bool world_stopped) {
  arch::Regs regs;
  const RuntimeAddr trap = *t.waiting_for_ring;
  t.waiting_for_ring.reset();
  if (!control_.regs(t.tid, regs)) return;
  isa_.set_pc(regs, trap.value + isa_.breakpoint().size());
  if (!control_.set_regs(t.tid, regs)) return;
  if (world_stopped) {
    t.pending = Stop{Stop::Kind::Interrupt, t.tid};
    return;
  }
  // Stepping out of the trampoline for a held signal goes on stepping.
  if (t.xol == XolState::LeavingSlot) control_.single_step(t);
  else control_.run(t);
}

void JumpHits::release_waiters() {
  // Called once a round of stops, a boost hit's among them: no look at
  // every thread of the program when no thread can be waiting.
  if (!any_ring()) return;
  for (pid_t tid : session_.tids()) {
    Thread* t = session_.thread(tid);
    if (!t || !t->waiting_for_ring) continue;
    Process* proc = session_.process(t->pid);
    Process* owner = proc ? ring_owner(*proc) : nullptr;
    if (owner && owner->jump.ring->full()) continue;
    release(*t, false);
  }
}

}  // namespace uptrace::core
