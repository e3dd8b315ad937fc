/* Calls work() once, then exits with status argv[1], or kills itself with
 * signal argv[2] when given. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((noinline)) int work(int x) { return x + 1; }

int main(int argc, char **argv) {
  /* The result is used so the call cannot be optimised away. */
  int status = work(argc > 1 ? atoi(argv[1]) : 0) - 1;
  if (argc > 2) {
    signal(atoi(argv[2]), SIG_DFL);
    kill(getpid(), atoi(argv[2]));
  }
  return status;
}
