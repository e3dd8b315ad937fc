#pragma once
// The reader side of jump probes: each process's ring (core/shared_ring.h)
// created in the target, the records drained into hits with the thread that
// made each, writers waiting at a full ring's trap released once there is
// room (Guarantee 2), and every record read before a process's ring goes.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "arch/isa.h"
#include "core/hit_reporter.h"
#include "core/session.h"
#include "core/thread_control.h"

namespace uptrace::core {

class JumpHits {
 public:
  // How often an idle loop looks at the rings. A full 2^18-record ring
  // takes 26 ms at 10 M hits/s.
  static constexpr uint64_t kPollNs = 1000000;
  // Records formatted between looks at the quit signals and new stops.
  static constexpr size_t kDrainChunk = 16384;

  JumpHits(Session& session, ThreadControl& control, HitReporter& reporter, bool follow_forks)
      : session_(session), control_(control), isa_(control.isa()), reporter_(reporter), follow_forks_(follow_forks) {}

  // Creates the ring in the target through the stopped thread `t` (at `at`,
  // for a followed child, whose parent's trampolines name that address) and
  // maps it here; `scratch` is memory of ours to put its name in. Throws
  // Error when it cannot be made.
  void create_ring(Process& proc, Thread& t, RuntimeAddr scratch, std::optional<RuntimeAddr> at = std::nullopt);
  bool any_ring() const;

  // Reports what the trampolines recorded, at most `limit` records per
  // ring; true if a ring may hold more.
  bool drain(Process& proc, size_t limit = SIZE_MAX);
  bool drain_all(size_t limit = SIZE_MAX);
  // Once no thread can write to the process's ring any more (it is gone,
  // exec'd, or detached): every record, then the count of those whose
  // writer died half way, reported as lost. While detaching (`holding`),
  // the ring is kept aside and read by finish_held().
  void finish(Process& proc);
  void hold(bool holding) { holding_ = holding; }
  void finish_held();

  // Threads: what a thread writes as its own in records.
  void learn_thread(Process& proc, pid_t tid);
  // A new thread was cloned by `parent`: records may name their thread
  // once every thread has a thread pointer.
  void on_clone(Process& proc, pid_t parent);
  // A vfork child runs on `parent`'s thread pointer until the vfork is done.
  void on_vfork(Process& proc, pid_t parent, pid_t child);
  void on_vfork_done(Process& proc, pid_t parent);
  void forget(Process& proc);  // exec: the ring and its records' meaning are gone
  void update_thread_id_mode(Process& proc);

  // Guarantee 2: a writer at a full ring's trap `trap` waits, stopped,
  // until the reader made room, then retries.
  void on_ring_full(Thread& t, RuntimeAddr trap);
  // Lets waiting writers retry where their ring has room now.
  void release_waiters();
  // Detaching: makes room at once (records set aside, formatted later) and
  // lets `t` past its trap; the world is stopped, so it is left stopped.
  // False, with `t` left at its trap, while room is still short: another
  // thread holds a reservation it has not published yet, and must be
  // stepped on first.
  bool make_room_now(Thread& t, RuntimeAddr trap);

 private:
  SharedRing::Taker reporter_for(Process& proc);
  Process* ring_owner(Process& proc);
  void make_room(Process& proc);
  void release(Thread& t, bool world_stopped);
  uint64_t record_key(Process& proc, pid_t tid);

  Session& session_;
  ThreadControl& control_;
  const arch::Isa& isa_;
  HitReporter& reporter_;
  bool follow_forks_;
  bool holding_ = false;
  // Processes gone while detaching, kept until their rings are read.
  std::vector<Process> held_;
};

}  // namespace uptrace::core
