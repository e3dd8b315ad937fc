/* libdlstay.so: loaded once with dlopen by target-dlwindow and kept, while
 * another library comes and goes: its probes must see every call, the
 * calls made while the other one is being unloaded included. */
#define PROBED __attribute__((noinline, noipa))

volatile long dlstay_sink;

PROBED long dlstay_work(long x) { return dlstay_sink += x; }
