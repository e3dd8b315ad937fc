/* The marker of target-sdt that has a semaphore: a program checks it before
 * it computes the marker's arguments, and a tracer sets it while it probes
 * the marker. <sys/sdt.h> names the semaphore of every marker of a file
 * built with _SDT_HAS_SEMAPHORES, hence a file of its own. */
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>

__extension__ unsigned short uptest_guarded_semaphore __attribute__((unused)) __attribute__((section(".probes")));

static volatile long sink;

/* 1 when the marker was enabled this round. */
__attribute__((noinline, noclone)) int guarded_round(long i) {
  if (__builtin_expect(uptest_guarded_semaphore, 0)) {
    long triple = 3 * i;
    DTRACE_PROBE2(uptest, guarded, i, triple);
    sink += triple;
    return 1;
  }
  return 0;
}

unsigned short guarded_semaphore_value(void) { return *(volatile unsigned short *)&uptest_guarded_semaphore; }
