// C++ names as c++filt prints them, for probes, --list and --explain: with
// ROUNDS = argv[1] (default 1), libcxxlib.so's lib::ns::twice(long) is
// called ROUNDS times, twice(double) 2*ROUNDS and twice(long, long)
// 3*ROUNDS; here app::Counter::bump() const ROUNDS times, its non-const
// overload 2*ROUNDS, app::Box<int>::get() ROUNDS times and
// (anonymous namespace)::hidden(char const*) ROUNDS times. Then "done".
#include <cstdio>
#include <cstdlib>

#define PROBED __attribute__((noinline, noipa))

namespace lib::ns {
long twice(long x);
double twice(double x);
long twice(long x, long y);
}  // namespace lib::ns

volatile long sink;

namespace app {
struct Counter {
  PROBED long bump() const {
    sink = sink + 1;
    return sink;
  }
  PROBED long bump() {
    sink = sink + 2;
    return sink;
  }
};
template <typename T>
struct Box {
  T value;
  PROBED T get() const { return value; }
};
template struct Box<int>;
}  // namespace app

namespace {
PROBED long hidden(const char* s) {
  sink = sink + s[0];
  return sink;
}
}  // namespace

int main(int argc, char** argv) {
  long rounds = argc > 1 ? std::atol(argv[1]) : 1;
  app::Counter c;
  const app::Counter& cc = c;
  app::Box<int> box{3};
  for (long i = 0; i < rounds; i++) {
    lib::ns::twice(i);
    cc.bump();
    box.get();
    hidden("x");
  }
  for (long i = 0; i < 2 * rounds; i++) {
    lib::ns::twice(static_cast<double>(i));
    c.bump();
  }
  for (long i = 0; i < 3 * rounds; i++) lib::ns::twice(i, i);
  std::printf("done\n");
  return 0;
}
