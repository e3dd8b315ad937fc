#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>

#include "core/wait_interrupter.h"

// The event loop's wait, as it is: waitpid on a child that never changes
// state by itself, so only the interrupter can end it.
namespace {

using uptrace::core::WaitInterrupter;
using Clock = std::chrono::steady_clock;

// SIGUSR1 stands for the quit signals: blocked in this thread, as the
// tracer blocks them in every thread.
struct BlockedQuitSignal {
  BlockedQuitSignal() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    ::pthread_sigmask(SIG_BLOCK, &s, &before);
  }
  ~BlockedQuitSignal() {
    // Whatever a failed test left pending is not delivered to the runner.
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    const timespec none{0, 0};
    while (::sigtimedwait(&s, nullptr, &none) > 0) {
    }
    ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  }
  sigset_t before;
};

struct IdleChild {
  IdleChild() : pid(::fork()) {
    REQUIRE(pid >= 0);
    if (pid == 0)
      for (;;) ::pause();
  }
  ~IdleChild() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
  }
  pid_t pid;
};

// waitpid on the idle child: -1 and its errno.
int wait_on(const IdleChild& child) {
  int status = 0;
  const pid_t r = ::waitpid(child.pid, &status, 0);
  return r < 0 ? errno : 0;
}

}  // namespace

TEST_CASE("wait interrupter: the deadline ends a wait in waitpid", "[core][wait]") {
  BlockedQuitSignal quit;
  IdleChild child;
  WaitInterrupter interrupter({SIGUSR1}, Clock::now() + std::chrono::milliseconds(20));
  REQUIRE(interrupter.begin_wait());
  CHECK(wait_on(child) == EINTR);
  interrupter.end_wait();
  CHECK(interrupter.fired());
  CHECK(interrupter.quit_signal() == 0);
}

TEST_CASE("wait interrupter: a quit signal to the process ends the wait and is taken", "[core][wait]") {
  BlockedQuitSignal quit;
  IdleChild child;
  WaitInterrupter interrupter({SIGUSR1}, std::nullopt);
  const pid_t self = ::getpid();
  const pid_t sender = ::fork();
  REQUIRE(sender >= 0);
  if (sender == 0) {
    ::usleep(20000);
    ::kill(self, SIGUSR1);
    ::_exit(0);
  }
  REQUIRE(interrupter.begin_wait());
  CHECK(wait_on(child) == EINTR);
  interrupter.end_wait();
  CHECK(interrupter.quit_signal() == SIGUSR1);
  sigset_t pending;
  sigpending(&pending);
  CHECK_FALSE(sigismember(&pending, SIGUSR1));
  ::waitpid(sender, nullptr, 0);
}

TEST_CASE("wait interrupter: once fired, no wait begins", "[core][wait]") {
  BlockedQuitSignal quit;
  WaitInterrupter interrupter({SIGUSR1}, Clock::now());
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  while (!interrupter.fired() && Clock::now() < give_up) ::usleep(1000);
  REQUIRE(interrupter.fired());
  CHECK_FALSE(interrupter.begin_wait());
}

TEST_CASE("wait interrupter: a wake-up that lands before the wait begins is sent again", "[core][wait]") {
  // The loop's thread has said it waits but is not in waitpid yet when the
  // deadline comes: the first wake-up interrupts nothing (the sleeps here).
  // Only one sent again ends the waitpid; without, it would last until the
  // child exits by itself.
  BlockedQuitSignal quit;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::sleep(20);
    ::_exit(0);
  }
  WaitInterrupter interrupter({SIGUSR1}, Clock::now() + std::chrono::milliseconds(300));
  REQUIRE(interrupter.begin_wait());
  while (!interrupter.fired()) ::usleep(1000);
  const auto landed = Clock::now() + std::chrono::milliseconds(20);
  while (Clock::now() < landed) ::usleep(1000);
  int status = 0;
  CHECK(::waitpid(child, &status, 0) == -1);
  CHECK(errno == EINTR);
  interrupter.end_wait();
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
}

TEST_CASE("wait interrupter: the wake-up signal's action is put back", "[core][wait]") {
  BlockedQuitSignal quit;
  struct sigaction before {};
  ::sigaction(WaitInterrupter::kWakeSignal, nullptr, &before);
  { WaitInterrupter interrupter({SIGUSR1}, std::nullopt); }
  struct sigaction after {};
  ::sigaction(WaitInterrupter::kWakeSignal, nullptr, &after);
  CHECK(after.sa_handler == before.sa_handler);
}
