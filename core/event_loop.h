#pragma once
// The event loop: every stop of every traced thread, classified once
// (core/stop_cause.h) and handed to the part that owns it, until the target
// is gone, -n or -d is reached, or a quit signal comes. Also stopping and
// resuming the whole world, which arming and detaching need.
#include <sys/types.h>

#include <memory>
#include <optional>
#include <vector>

#include "core/engine.h"
#include "core/wait_interrupter.h"

namespace uptrace::core {

class EventLoop {
 public:
  explicit EventLoop(Engine& e);

  void run();
  // One stop, as waitpid reported it: handled now, or kept pending while
  // the world is stopped.
  void handle(const Stop& stop);
  // A stop taken note of (the thread is stopped, the stop pending); the
  // thread when it is still to be dispatched.
  Thread* record(const Stop& stop);
  // The stop a thread is in (its pending one), handled.
  void dispatch(Thread& t, const Stop& stop);
  // A thread (or with it the whole process) is gone.
  void on_thread_gone(Thread& t, const Stop& stop);

  // Every thread in a ptrace-stop the tracer has seen (Thread::pending).
  void stop_world();
  void resume_world();
  bool quit_signal_pending() const;

 private:
  bool finished() const;
  // Handles what is ready without blocking; false when tracing must end.
  bool handle_ready(std::optional<uint64_t> deadline);
  // Blocks until an event, a quit signal, the deadline or the next look at
  // the rings.
  void wait_for_events(std::optional<uint64_t> deadline, bool ring_backlog);
  // With no ring to look at: blocks in waitpid itself, and keeps the stop
  // it returns for handle_ready's next round (`waited_`). False when that
  // cannot be done (no WaitInterrupter could start): nothing was waited for.
  bool wait_for_stop(std::optional<uint64_t> deadline);
  // waitpid says no tracee is left.
  void on_no_tracees();
  // A quit signal the interrupter's thread took ends tracing.
  void take_interrupter_quit();
  void on_signal(Thread& t, int signal);
  void on_probe_hit(Thread& t, Process& proc, uint32_t site, arch::Regs& regs);
  void on_return_trap(Thread& t, Process& proc, arch::Regs& regs);
  // `now_ns`: the stop's time (HitReporter::stop_time); `entry_ns`, for a
  // return, when its call entered.
  void report(Thread& t, Process& proc, const ArmedSite& site, ProbeRole role, const arch::Regs& regs, uint64_t pc,
              uint64_t now_ns, std::optional<uint64_t> entry_ns = std::nullopt);

  Engine& e_;
  // How many times the world was resumed: a round of stops (handle_ready)
  // found this way that all of them were handled.
  unsigned world_resumes_ = 0;
  // uptrace may run on one CPU only: a thread it resumes cannot run before
  // uptrace sleeps, so asking waitpid again right after a round is handled
  // finds nothing.
  bool one_cpu_ = false;
  // Started at the first wait in waitpid (wait_for_stop), ended with run().
  std::unique_ptr<WaitInterrupter> interrupter_;
  bool no_interrupter_ = false;
  // The thread whose stop wait_for_stop took, still to be dispatched.
  std::vector<pid_t> waited_;
  // handle_ready's round, kept with waited_ so that their buffers, swapped
  // at each round, are not allocated again at each hit.
  std::vector<pid_t> round_;
  // Stops wait_for_stop took, which on one CPU start a round alone but for
  // every kRoundEvery-th (see handle_ready).
  unsigned waited_stops_ = 0;
};

}  // namespace uptrace::core
