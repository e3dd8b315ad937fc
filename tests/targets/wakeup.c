/* Prints "ready PID" and sleeps until a SIGUSR1 handler runs, then says how
 * the wait ended and calls work() once.
 *   wakeup          pause(): "pause: -1 EINTR, handled 1" (a handler ends a
 *                   pause() with EINTR)
 *   wakeup suspend  SIGUSR1 blocked, waits in sigsuspend() with it
 *                   unblocked: "sigsuspend: -1 EINTR, SIGUSR1 blocked after"
 *                   (sigsuspend() puts the mask it swapped back)
 * The tests let uptrace arm its probes (system calls borrowed from this very
 * thread) while it waits, then send the signal. */
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

static const char *err_name(int err) { return err == EINTR ? "EINTR" : strerror(err); }

int main(int argc, char **argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  int r;
  if (argc > 1 && strcmp(argv[1], "suspend") == 0) {
    sigset_t usr1, before, after;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &before);
    printf("ready %d\n", getpid());
    fflush(stdout);
    r = sigsuspend(&before);
    int err = errno;
    sigprocmask(SIG_BLOCK, NULL, &after);
    printf("sigsuspend: %d %s, SIGUSR1 %s after\n", r, err_name(err),
           sigismember(&after, SIGUSR1) ? "blocked" : "unblocked");
  } else {
    printf("ready %d\n", getpid());
    fflush(stdout);
    r = pause();
    int err = errno;
    printf("pause: %d %s, handled %d\n", r, err_name(err), (int)handled);
  }
  fflush(stdout);
  work(r);
  return 0;
}
