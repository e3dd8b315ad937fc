#pragma once
// Lets the event loop block in waitpid itself rather than in sigtimedwait
// for SIGCHLD and then ask waitpid: one system call per stop instead of
// three (the SIGCHLD wait, the stop, the empty waitpid that ends a round),
// where a boost hit costs five in all. waitpid cannot wait for a quit signal
// or a deadline too, so a thread of uptrace's own does: it takes the quit
// signals (blocked in every thread, they stay pending until it does) and
// watches the clock, and once either comes it interrupts the loop's wait.
//
// The loop's thread has kWakeSignal unblocked with a handler that does
// nothing and no SA_RESTART, so a wait it interrupts returns EINTR. It may
// land just before the loop enters its wait instead, where it interrupts
// nothing: the watcher sends it again every millisecond for as long as the
// loop is waiting, which is why it needs no signal mask changed around each
// wait (two system calls more per stop).
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include <signal.h>

namespace uptrace::core {

class WaitInterrupter {
 public:
  // Unused by uptrace otherwise, ignored by default, and sent by no one
  // else in practice: a stray one only ends a wait early.
  static constexpr int kWakeSignal = SIGURG;

  // Constructed in the thread whose waits it interrupts. `quit_signals`
  // must be blocked there; `deadline`, -d's end if any.
  WaitInterrupter(const std::vector<int>& quit_signals, std::optional<std::chrono::steady_clock::time_point> deadline);
  ~WaitInterrupter();
  WaitInterrupter(const WaitInterrupter&) = delete;
  WaitInterrupter& operator=(const WaitInterrupter&) = delete;

  // Around each wait that it may interrupt: begin_wait is false (and the
  // wait must not start) when it fired already.
  bool begin_wait();
  void end_wait() { waiting_.store(false); }

  // A quit signal came or the deadline passed.
  bool fired() const { return fired_.load(); }
  // The quit signal taken (0: none, the deadline fired it or nothing has).
  int quit_signal() const { return quit_signal_.load(); }

 private:
  void watch();

  std::vector<int> quit_signals_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  pthread_t loop_thread_;
  struct sigaction previous_wake_action_ {};
  std::atomic<bool> waiting_{false};
  std::atomic<bool> fired_{false};
  std::atomic<int> quit_signal_{0};
  std::atomic<bool> stopping_{false};
  std::thread watcher_;
};

}  // namespace uptrace::core
