/* Indirect functions (STT_GNU_IFUNC). add_one is this program's own: its
 * resolver picks add_one_fast, a local function, when the loader relocates
 * the program; the calls then go there and never to the resolver.
 * libifunclib.so (stripped) exports two more. With ROUNDS = argv[1]
 * (default 1), one round calls add_one 3 times (once directly, twice through
 * a function pointer), libc's strlen 5 times (through a function pointer,
 * so the compiler cannot fold it; nothing else calls strlen: output goes out
 * with write(2)), lib_add_two twice (directly and through a pointer) and
 * lib_add_three once, directly (a lazily bound PLT slot only). Then "done".
 * With "wait" as argv[2] it then prints "ready PID", waits for SIGUSR1, does
 * ROUNDS more rounds and prints "again". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

long lib_add_two(long x);
long lib_add_three(long x);

volatile long sink;

static long add_one_plain(long x) { return x + 1; }
static long add_one_fast(long x) { return x + 1; }

/* The loader runs this before any constructor; it must not call into libc. */
static long (*resolve_add_one(void))(long) {
  static volatile int prefer_plain = 0;
  return prefer_plain ? add_one_plain : add_one_fast;
}

long add_one(long x) __attribute__((ifunc("resolve_add_one")));

long (*volatile add_one_ptr)(long) = add_one;
long (*volatile add_two_ptr)(long) = lib_add_two;
size_t (*volatile strlen_ptr)(const char *) = strlen;

static void rounds(long n) {
  for (long i = 0; i < n; i++) {
    sink = add_one(i);
    sink = add_one_ptr(i);
    sink = add_one_ptr(i + 1);
    for (int k = 0; k < 5; k++) sink = (long)strlen_ptr("ifunc");
    sink = lib_add_two(i);
    sink = add_two_ptr(i);
    sink = lib_add_three(i);
  }
}

static void say(const char *s) {
  size_t len = 0;
  while (s[len] != '\0') len++;
  if (write(1, s, len) < 0) _exit(3);
}

static volatile sig_atomic_t go;
static void on_usr1(int sig) {
  (void)sig;
  go = 1;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1;
  signal(SIGUSR1, on_usr1);
  rounds(n);
  say("done\n");
  if (argc > 2 && strcmp(argv[2], "wait") == 0) {
    char line[64];
    snprintf(line, sizeof line, "ready %d\n", getpid());
    /* SIGUSR1 blocked but inside sigsuspend(): a signal that comes before
     * the wait cannot be lost in between (while (!go) pause() can lose it
     * when the thread is slow to reach pause()). */
    sigset_t usr1, before;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, &before);
    say(line);
    while (!go) sigsuspend(&before);
    rounds(n);
    say("again\n");
  }
  return 0;
}
