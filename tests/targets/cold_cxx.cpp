// A C++ function GCC splits at -O2 into its entry part and a part placed
// elsewhere, "ns::check(long) [clone .cold]", which runs only on the
// unlikely path: ns::check is called ROUNDS times (argv[1], default 10),
// and every tenth call (i % 10 == 9) goes through the cold part. Then "done".
#include <cstdio>
#include <cstdlib>

volatile long sink;

__attribute__((noinline, cold)) void complain(long x) { std::fprintf(stderr, "cold path %ld\n", x); }

namespace ns {
__attribute__((noinline)) long check(long x) {
  if (__builtin_expect(x % 10 == 9, 0)) {
    complain(x);
    sink = sink + 1;
  }
  return x * 2 + 1;
}
}  // namespace ns

int main(int argc, char** argv) {
  long rounds = argc > 1 ? std::atol(argv[1]) : 10;
  long sum = 0;
  for (long i = 0; i < rounds; i++) sum += ns::check(i);
  std::printf("done %ld\n", sum);
  return 0;
}
