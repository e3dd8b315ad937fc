/* Forks while probed code runs. MODE:
 *   fork N    the parent calls work() N times; N children call it 3 times each
 *   vfork N   N vfork children call work() once, then _exit
 *   threads N 4 threads call work() all the time while the parent forks N
 *             children that call it 10 times each
 *   exec      a child calls work() once and then execs /bin/true
 *   selfexec  calls work() once, execs itself (mode "again"), which calls
 *             work() 5 times
 * Every child's exit status is checked; prints "ok" when all exited 0. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

volatile long sink;
static volatile int stop;

__attribute__((noinline)) long work(long x) {
  sink += x;
  return sink;
}

static void *hammer(void *arg) {
  (void)arg;
  while (!stop) work(1);
  return NULL;
}

static int reap(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "fork";
  long n = argc > 2 ? atol(argv[2]) : 5;
  int ok = 1;
  if (strcmp(mode, "fork") == 0) {
    for (long i = 0; i < n; i++) {
      work(i);
      pid_t pid = fork();
      if (pid == 0) {
        for (int k = 0; k < 3; k++) work(k);
        _exit(0);
      }
      ok &= reap(pid);
    }
  } else if (strcmp(mode, "vfork") == 0) {
    for (long i = 0; i < n; i++) {
      pid_t pid = vfork();
      if (pid == 0) {
        work(i);
        _exit(0);
      }
      ok &= reap(pid);
    }
  } else if (strcmp(mode, "threads") == 0) {
    pthread_t t[4];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, hammer, NULL);
    for (long i = 0; i < n; i++) {
      pid_t pid = fork();
      if (pid == 0) {
        for (int k = 0; k < 10; k++) work(k);
        _exit(0);
      }
      ok &= reap(pid);
    }
    stop = 1;
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  } else if (strcmp(mode, "selfexec") == 0) {
    work(1);
    fflush(stdout);
    execl("/proc/self/exe", argv[0], "again", (char *)NULL);
    ok = 0;
  } else if (strcmp(mode, "again") == 0) {
    for (int k = 0; k < 5; k++) work(k);
  } else if (strcmp(mode, "exec") == 0) {
    pid_t pid = fork();
    if (pid == 0) {
      work(1);
      execl("/bin/true", "true", (char *)NULL);
      _exit(127);
    }
    ok &= reap(pid);
  }
  printf("%s\n", ok ? "ok" : "a child failed");
  return ok ? 0 : 1;
}
