// C++ overloads in a library of our own, for MODULE:ns::f and signatures
// (libcxxlib.so:lib::ns::twice(long)).
#define PROBED __attribute__((noinline, noipa))

volatile long lib_sink;

namespace lib::ns {
PROBED long twice(long x) {
  lib_sink = lib_sink + 2 * x;
  return lib_sink;
}
PROBED double twice(double x) {
  lib_sink = lib_sink + static_cast<long>(2 * x);
  return static_cast<double>(lib_sink);
}
PROBED long twice(long x, long y) {
  lib_sink = lib_sink + 2 * (x + y);
  return lib_sink;
}
}  // namespace lib::ns
