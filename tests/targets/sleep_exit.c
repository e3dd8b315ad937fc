/* Prints "ready", waits, calls work(), exits with STATUS. The wait is MS
 * milliseconds, or, given "@PATH", until PATH exists: a test that must have
 * uptrace armed first says when (a fixed sleep races a loaded machine). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

__attribute__((noinline)) int work(int x) { return x * 2; }

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  const char *wait = argc > 1 ? argv[1] : "500";
  int status = argc > 2 ? atoi(argv[2]) : 0;
  printf("ready\n");
  fflush(stdout);
  if (wait[0] == '@') {
    while (access(wait + 1, F_OK) != 0) sleep_ms(5);
  } else {
    sleep_ms(atol(wait));
  }
  return work(status) / 2;
}
