/* libuptest.so: a shared library of our own for MODULE:FUNC probes
 * (built by extra.cmake, used by target-uselib). */
#define PROBED __attribute__((noinline, noipa))

volatile long uptest_sink;

PROBED long uptest_lib_work(long x) { return uptest_sink += x + 1; }
PROBED long uptest_lib_other(long x) { return uptest_sink += x + 2; }
