// C++ exceptions through frames whose returns are probed (FUNC%return).
//   throws K   K rounds of main -> middle(i) -> thrower(i) -> maybe_throw(i):
//              i % 3 == 0 throws Far (caught in main, through both frames),
//              i % 3 == 1 throws Near (caught in middle, which returns -i),
//              otherwise nothing is thrown and thrower returns i.
// Prints the counts and a checksum: a mis-paired return would crash or
// change them.
#include <cstdio>
#include <cstdlib>

#define NOINLINE __attribute__((noinline, noclone))

struct Far {
  long i;
};
struct Near {
  long i;
};

static volatile long sink;

// C names, so probes are written as plain words; they still throw.
extern "C" {

NOINLINE void maybe_throw(long i) {
  if (i % 3 == 0) throw Far{i};
  if (i % 3 == 1) throw Near{i};
  sink = i;
}

NOINLINE long thrower(long i) {
  maybe_throw(i);
  sink = i;
  return i;
}

NOINLINE long middle(long i) {
  try {
    long r = thrower(i);
    sink = r;
    return r;
  } catch (const Near& n) {
    return -n.i;
  }
}

}  // extern "C"

int main(int argc, char** argv) {
  long rounds = argc > 2 ? std::atol(argv[2]) : 10;
  long far = 0, sum = 0;
  for (long i = 0; i < rounds; i++) {
    try {
      sum += middle(i);
    } catch (const Far& f) {
      far++;
      sum += 1000 * f.i;
    }
  }
  std::printf("far %ld sum %ld\n", far, sum);
  return 0;
}
