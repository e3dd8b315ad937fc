#include "core/wait_interrupter.h"

#include <errno.h>
#include <time.h>

#include "common/error.h"

namespace uptrace::core {

namespace {

void interrupt_only(int) {}

timespec to_timespec(std::chrono::nanoseconds ns) {
  const auto whole = std::chrono::duration_cast<std::chrono::seconds>(ns);
  return timespec{static_cast<time_t>(whole.count()), static_cast<long>((ns - whole).count())};
}

}  // namespace

WaitInterrupter::WaitInterrupter(const std::vector<int>& quit_signals,
                                 std::optional<std::chrono::steady_clock::time_point> deadline)
    : quit_signals_(quit_signals), deadline_(deadline), loop_thread_(::pthread_self()) {
  struct sigaction wake {};
  wake.sa_handler = interrupt_only;
  sigemptyset(&wake.sa_mask);
  wake.sa_flags = 0;  // no SA_RESTART: the interrupted wait returns EINTR
  if (::sigaction(kWakeSignal, &wake, &previous_wake_action_) != 0)
    throw_runtime("cannot install uptrace's wake-up signal handler: {}", errno_text(errno));
  sigset_t unblock;
  sigemptyset(&unblock);
  sigaddset(&unblock, kWakeSignal);
  ::pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
  // Started with every signal blocked, so none meant for the loop's thread
  // reaches the watcher before it could block them itself.
  sigset_t all, before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  try {
    watcher_ = std::thread([this] { watch(); });
  } catch (const std::system_error& e) {
    ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
    ::sigaction(kWakeSignal, &previous_wake_action_, nullptr);
    throw_runtime("cannot start uptrace's signal watcher thread: {}", e.what());
  }
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
}

WaitInterrupter::~WaitInterrupter() {
  stopping_.store(true);
  waiting_.store(false);
  // Directed at the watcher, which waits for it; the loop's thread (which
  // has it unblocked) never takes one meant for another thread.
  ::pthread_kill(watcher_.native_handle(), kWakeSignal);
  watcher_.join();
  ::sigaction(kWakeSignal, &previous_wake_action_, nullptr);
}

bool WaitInterrupter::begin_wait() {
  waiting_.store(true);
  // After `waiting_` is set: the watcher either sees it set, or fired
  // before it looked, which is seen here.
  if (!fired_.load()) return true;
  waiting_.store(false);
  return false;
}

void WaitInterrupter::watch() {
  sigset_t wanted;
  sigemptyset(&wanted);
  for (int s : quit_signals_) sigaddset(&wanted, s);
  sigaddset(&wanted, kWakeSignal);
  while (!stopping_.load()) {
    siginfo_t info;
    int sig;
    if (deadline_) {
      const auto left = std::max(std::chrono::nanoseconds(0), *deadline_ - std::chrono::steady_clock::now());
      const timespec timeout = to_timespec(left);
      sig = ::sigtimedwait(&wanted, &info, &timeout);
      if (sig < 0 && errno == EAGAIN && std::chrono::steady_clock::now() >= *deadline_) break;
    } else {
      sig = ::sigwaitinfo(&wanted, &info);
    }
    // The wake signal here is the destructor's (or a stray one): look at
    // `stopping_` again.
    if (sig > 0 && sig != kWakeSignal) {
      quit_signal_.store(sig);
      break;
    }
  }
  if (stopping_.load()) return;
  fired_.store(true);
  sigset_t wake_only;
  sigemptyset(&wake_only);
  sigaddset(&wake_only, kWakeSignal);
  const timespec retry = to_timespec(std::chrono::milliseconds(1));
  while (!stopping_.load()) {
    if (waiting_.load()) ::pthread_kill(loop_thread_, kWakeSignal);
    (void)::sigtimedwait(&wake_only, nullptr, &retry);
  }
}

}  // namespace uptrace::core
