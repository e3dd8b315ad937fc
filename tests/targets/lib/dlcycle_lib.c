/* libdlcycle.so: loaded and unloaded by target-dlcycle with dlopen and
 * dlclose, never linked to it, for probes on a library loaded later. */
#define PROBED __attribute__((noinline, noipa))

volatile long dlcycle_sink;

PROBED long dlcycle_work(long x) { return dlcycle_sink += x + 1; }
