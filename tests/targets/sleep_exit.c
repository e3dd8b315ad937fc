/* Prints "ready", sleeps MS milliseconds, calls work(), exits with STATUS. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) int work(int x) { return x * 2; }

int main(int argc, char **argv) {
  long ms = argc > 1 ? atol(argv[1]) : 500;
  int status = argc > 2 ? atoi(argv[2]) : 0;
  printf("ready\n");
  fflush(stdout);
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
  return work(status) / 2;
}
