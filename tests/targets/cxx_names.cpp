// C++ names for probe resolution: ns::Bar::run (mangled _ZN2ns3Bar3runEl)
// is called ROUNDS times (argv[1], default 1), ns::helper(long) twice as
// often; then the program prints "done".
#include <cstdio>
#include <cstdlib>

#define PROBED __attribute__((noinline, noipa))

volatile long sink;

namespace ns {
struct Bar {
  PROBED static long run(long x) {
    sink = sink + x + 1;
    return sink;
  }
};
PROBED long helper(long x) {
  sink = sink + x * 2;
  return sink;
}
}  // namespace ns

int main(int argc, char** argv) {
  long rounds = argc > 1 ? std::atol(argv[1]) : 1;
  for (long i = 0; i < rounds; i++) ns::Bar::run(i);
  for (long i = 0; i < 2 * rounds; i++) ns::helper(i);
  std::printf("done\n");
  return 0;
}
