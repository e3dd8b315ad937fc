/* Return probes (FUNC%return): one scenario per first argument, each with
 * results the tests can predict exactly, printed so a test can prove the
 * program ran on correctly (a wrong return address would crash it or change
 * its output).
 *   depth N            depth(N) recursion: returns N..0, each value once
 *   fib N              fib(N) the naive way
 *   longjmp K          K rounds; odd rounds longjmp out of jumper()
 *   swap K             ucontext: a coroutine's co_work() is suspended inside,
 *                      main_work() runs and returns, co_work() resumes
 *   threads T N        T threads each call depth(5) N times
 *   park N             waits for SIGUSR1, recurses to depth N, prints
 *                      "bottom", waits for SIGUSR1 again, returns up, prints
 *                      "result N"
 *   fork N             recurses to depth N and forks at the bottom; both
 *                      return up and print their result
 *   typed N            N rounds of one call each, in this order, of functions
 *                      whose DWARF return types $retval prints by:
 *                      narrow_int -1, narrow_uchar 200, narrow_char 'A',
 *                      truth true, truth false, pick GRUMPY, pick HAPPY,
 *                      pick 7 (no enumerator), label "ready", label NULL,
 *                      place 0x3000, no_result (void), half 4.5 (double),
 *                      make_pair {4, -4}; prints "typed SUM"
 *   tail N             N rounds of tail_caller(i), which ends in a call to
 *                      tail_leaf(2 * i) (a tail call at -O2); prints the sum
 *   spin               waits for SIGUSR1, then spins in spin_leaf(), a leaf
 *                      function, until a second SIGUSR1; prints "leaf 42"
 *   early N            early(N) = depth(N) + 1, whose prologue comes after
 *                      an early exit; prints "early N+1"
 *   tailwait           waits for SIGUSR1, then tail_wait(20) ends in a call
 *                      (a tail call at -O2) to wait_work(), which prints
 *                      "waiting" and waits for a second SIGUSR1; prints
 *                      "result 41" */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noclone))

static volatile int sink;

NOINLINE long depth(long n) {
  if (n == 0) return 0;
  long r = depth(n - 1) + 1;
  sink = (int)r;  /* keeps the recursion a real one at -O2 */
  return r;
}

NOINLINE long fib(long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static jmp_buf env;

NOINLINE void bail(long i) {
  if (i % 2) longjmp(env, 1);
  sink = (int)i;
}

NOINLINE long jumper(long i) {
  bail(i);
  sink = (int)i;
  return i;
}

NOINLINE long after(long i) {
  sink = (int)i;
  return i * 10;
}

static ucontext_t main_ctx, co_ctx;
static long co_round;

NOINLINE long co_work(long i) {
  sink = (int)i;
  swapcontext(&co_ctx, &main_ctx); /* suspended here with its return hijacked */
  sink = (int)i;
  return 100 + i;
}

NOINLINE long main_work(long i) {
  sink = (int)i;
  return 200 + i;
}

static void co_body(void) {
  for (;;) {
    long r = co_work(co_round);
    printf("co %ld\n", r);
    swapcontext(&co_ctx, &main_ctx);
  }
}

static long rounds;

static void *thread_loop(void *arg) {
  (void)arg;
  long sum = 0;
  for (long i = 0; i < rounds; i++) sum += depth(5);
  return (void *)sum;
}

static volatile sig_atomic_t go;
static void on_usr1(int sig) {
  (void)sig;
  go++;
}

static void wait_go(int n) {
  while (go < n) usleep(1000);
}

NOINLINE long park(long n) {
  if (n == 0) {
    printf("bottom\n");
    fflush(stdout);
    wait_go(2);
    return 0;
  }
  long r = park(n - 1) + 1;
  sink = (int)r;
  return r;
}

NOINLINE long forking(long n) {
  if (n == 0) {
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) return 1000;
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  long r = forking(n - 1) + 1;
  sink = (int)r;
  return r;
}

/* Typed return values. Each narrows a long whose upper bits are not part
 * of the result, so the return register holds more than the value (gcc
 * leaves them there at -O0, and on aarch64 at every level). noipa: no
 * caller may know what they return. */
#define OPAQUE __attribute__((noipa))

enum mood { CALM = 0, HAPPY = 3, GRUMPY = -2 };
struct pair {
  long a, b;
};

OPAQUE int narrow_int(long x) { return (int)x; }
OPAQUE unsigned char narrow_uchar(long x) { return (unsigned char)x; }
OPAQUE char narrow_char(long x) { return (char)x; }
OPAQUE bool truth(long x) { return x & 1; }
OPAQUE enum mood pick(long x) { return x == 2 ? GRUMPY : x == 1 ? HAPPY : x == 0 ? CALM : (enum mood)x; }
OPAQUE const char *label(long x) { return x ? "ready" : NULL; }
OPAQUE int *place(long x) { return (int *)(uintptr_t)(x * 0x1000); }
OPAQUE void no_result(long x) { sink = (int)x; }
OPAQUE double half(long x) { return (double)x / 2; }
OPAQUE struct pair make_pair(long x) {
  struct pair p = {x, -x};
  return p;
}

static long typed_round(void) {
  long sum = 0;
  sum += narrow_int(0x5ffffffffL);  /* -1 */
  sum += narrow_uchar(0x7fffffc8L); /* 200 */
  sum += narrow_char(0x141);        /* 'A' */
  sum += truth(3);
  sum += truth(4);
  sum += pick(2);
  sum += pick(1);
  sum += pick(7);
  sum += (long)strlen(label(1));
  sum += label(0) == NULL;
  sum += (long)(uintptr_t)place(3);
  no_result(5);
  sum += (long)(half(9) * 2);
  sum += make_pair(4).b;
  return sum;
}

NOINLINE long tail_leaf(long i) {
  sink = (int)i;
  return i + 1;
}

NOINLINE long tail_caller(long i) {
  sink = (int)i;
  return tail_leaf(2 * i); /* b tail_leaf at -O2: a sibling call */
}

/* A leaf: no call, so the return address stays where the call left it
   (aarch64: in x30) while it spins. */
NOINLINE long spin_leaf(long v) {
  while (go < 2) sink = (int)v;
  return v;
}

/* With optimisation its first instructions test n, and the prologue that
   saves the return address (aarch64: x30) comes only after the early exit. */
NOINLINE long early(long n) {
  if (n > 1000) return -1;
  long r = depth(n) + 1;
  sink = (int)r;
  return r;
}

/* Not a leaf: it saves its return address in its own frame. */
NOINLINE long wait_work(long v) {
  printf("waiting\n");
  fflush(stdout);
  wait_go(2);
  return v + 1;
}

NOINLINE long tail_wait(long v) {
  sink = (int)v;
  return wait_work(2 * v); /* b wait_work at -O2 */
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s SCENARIO N [M]\n", argv[0]);
    return 2;
  }
  const char *what = argv[1];
  long n = atol(argv[2]);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!strcmp(what, "depth")) {
    printf("depth %ld\n", depth(n));
  } else if (!strcmp(what, "fib")) {
    printf("fib %ld\n", fib(n));
  } else if (!strcmp(what, "longjmp")) {
    long sum = 0;
    for (volatile long i = 0; i < n; i++) {
      if (setjmp(env) == 0) sum += jumper(i);
      sum += after(i);
    }
    printf("sum %ld\n", sum);
  } else if (!strcmp(what, "swap")) {
    static char stack[256 * 1024];
    getcontext(&co_ctx);
    co_ctx.uc_stack.ss_sp = stack;
    co_ctx.uc_stack.ss_size = sizeof stack;
    co_ctx.uc_link = NULL;
    makecontext(&co_ctx, co_body, 0);
    for (co_round = 0; co_round < n; co_round++) {
      swapcontext(&main_ctx, &co_ctx); /* the coroutine stops inside co_work */
      printf("main %ld\n", main_work(co_round));
      swapcontext(&main_ctx, &co_ctx); /* co_work returns, prints, yields */
    }
  } else if (!strcmp(what, "threads")) {
    rounds = argc > 3 ? atol(argv[3]) : 100;
    pthread_t t[64];
    long sum = 0;
    for (long i = 0; i < n && i < 64; i++) pthread_create(&t[i], NULL, thread_loop, NULL);
    for (long i = 0; i < n && i < 64; i++) {
      void *r;
      pthread_join(t[i], &r);
      sum += (long)r;
    }
    printf("sum %ld\n", sum);
  } else if (!strcmp(what, "park")) {
    signal(SIGUSR1, on_usr1);
    printf("ready %d\n", getpid());
    wait_go(1);
    printf("result %ld\n", park(n));
  } else if (!strcmp(what, "fork")) {
    long r = forking(n);
    printf("%s %ld\n", r >= 1000 ? "child" : "parent", r);
    if (r >= 1000) _exit((int)(r - 1000));
  } else if (!strcmp(what, "typed")) {
    long sum = 0;
    for (long i = 0; i < n; i++) sum += typed_round();
    printf("typed %ld\n", sum);
  } else if (!strcmp(what, "tail")) {
    long sum = 0;
    for (long i = 0; i < n; i++) sum += tail_caller(i);
    printf("sum %ld\n", sum);
  } else if (!strcmp(what, "early")) {
    printf("early %ld\n", early(n));
  } else if (!strcmp(what, "tailwait")) {
    signal(SIGUSR1, on_usr1);
    printf("ready %d\n", getpid());
    wait_go(1);
    printf("result %ld\n", tail_wait(20));
  } else if (!strcmp(what, "spin")) {
    signal(SIGUSR1, on_usr1);
    printf("ready %d\n", getpid());
    wait_go(1);
    printf("leaf %ld\n", spin_leaf(42));
  } else {
    fprintf(stderr, "unknown scenario %s\n", what);
    return 2;
  }
  return 0;
}
