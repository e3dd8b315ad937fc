#pragma once
// Leaving: every exit path ends here (DESIGN rules 1 and 2). The world is
// stopped, then each phase below makes one promise true, in this order,
// before the code is restored and the threads are let go:
//   1. release_new_children      children forked at the last moment keep none of our code
//   2. surface_queued_traps      a SIGTRAP queued behind an interrupt is seen, not left to kill
//   3. release_ring_writers      writers waiting at a full ring get room and go on
//   4. complete_steps            no thread is left mid-step in a slot
//   5. leave_free_running_slots  no thread is left inside a boost or jump slot
//   6. rewind_probe_traps        a thread stopped on our trap will run the original instruction
//   7. release_returns           no stack slot or register holds the %return trampoline
//   8. restore_code              the journal is replayed; slots and ring are unmapped
//   9. let_go                    every thread runs on, with the signal it was due
//  10. read_rings                jump records left in the rings are reported
#include <set>

#include "core/engine.h"
#include "core/event_loop.h"

namespace uptrace::core {

class Detach {
 public:
  Detach(Engine& e, EventLoop& loop) : e_(e), loop_(loop) {}
  void run();

 private:
  void release_new_children();
  void surface_queued_traps();
  void release_ring_writers();
  void complete_steps();
  void leave_free_running_slots();
  void rewind_probe_traps();
  void release_returns();
  void restore_code();
  // The thread the unmapping borrows (core/remote_syscalls.h), or none.
  Thread* thread_to_borrow(pid_t pid);
  // Delivers the stop signal a thread is stopped for, and stops it again
  // right after: in the group-stop it began, or at an interrupt where a
  // SIGCONT since made the kernel drop it.
  bool settle_stop_signal(Thread& t);
  void let_go();
  void read_rings(bool report);
  // Threads that died while being stepped: forgotten as the loop would.
  void reap_gone();

  Engine& e_;
  EventLoop& loop_;
  // Processes with a thread left inside a slot (it could not be stepped
  // out): their slots and ring stay mapped, so that thread can run on.
  std::set<pid_t> stuck_;
};

}  // namespace uptrace::core
