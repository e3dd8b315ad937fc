/* Loads libdlcycle.so with dlopen (argv[1]: a name found through this
 * program's RUNPATH, or a path), calls dlcycle_work() N times (argv[2]),
 * dlcloses it, loads it again and calls it M times (argv[3]), then prints
 * "done SUM". argv[4]: "wait" prints "ready PID" first and waits for
 * SIGUSR1 (for -p), "wait-loaded" does the same after the first dlopen;
 * with either, it pauses after "done" until killed; "fork" does it all in
 * a forked child and prints "child STATUS" once that has exited. A failed
 * dlopen prints the reason and exits 3. */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void wait_for_go(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  printf("ready %d\n", getpid());
  fflush(stdout);
  int sig;
  sigwait(&set, &sig);
}

static void *load(const char *lib) {
  void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    printf("dlopen: %s\n", dlerror());
    exit(3);
  }
  return h;
}

static long calls(void *h, long n) {
  long (*work)(long) = (long (*)(long))dlsym(h, "dlcycle_work");
  long sum = 0;
  for (long i = 0; i < n; i++) sum += work(i);
  return sum;
}

int main(int argc, char **argv) {
  const char *lib = argc > 1 ? argv[1] : "libdlcycle.so";
  long n = argc > 2 ? atol(argv[2]) : 1, m = argc > 3 ? atol(argv[3]) : 1;
  const char *wait = argc > 4 ? argv[4] : "";
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  if (strcmp(wait, "fork") == 0) {
    pid_t child = fork();
    if (child > 0) {
      int status = 0;
      waitpid(child, &status, 0);
      printf("child %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      return 0;
    }
    wait = "";
  }
  if (strcmp(wait, "wait") == 0) wait_for_go();
  void *h = load(lib);
  if (strcmp(wait, "wait-loaded") == 0) wait_for_go();
  long sum = calls(h, n);
  dlclose(h);
  h = load(lib);
  sum += calls(h, m);
  printf("done %ld\n", sum);
  fflush(stdout);
  if (*wait)
    for (;;) pause();
  return 0;
}
