/* Prints "ready PID", sleeps in pause() until a signal's handler runs, then
 * says how pause() returned ("pause: -1 EINTR, handled 1": a handler ends a
 * pause() with EINTR) and calls work() once. The test stops it in pause()
 * (SIGSTOP), queues SIGUSR1, attaches uptrace, then lets it go (SIGCONT):
 * the pause() uptrace interrupted to arm its probes must still be the one
 * the handler interrupts. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

volatile int sink;
void work(int x) { sink = x; }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  printf("ready %d\n", getpid());
  fflush(stdout);
  int r = pause();
  int err = errno;
  printf("pause: %d %s, handled %d\n", r, err == EINTR ? "EINTR" : strerror(err), (int)handled);
  fflush(stdout);
  work(r);
  return 0;
}
