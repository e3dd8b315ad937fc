// ppc64le-objdump-check: compares uptrace's ppc64le decoder with binutils.
//   powerpc64le-linux-gnu-objdump -d FILE | ppc64le-objdump-check
// prints the counts and the first mismatches; exit status 0 when there are
// none. tests/cross/ppc64le-objdump-check.sh runs it over Debian's libc.
#include <cstdio>
#include <iostream>

#include <fmt/format.h>

#include "listing.h"

using namespace uptrace::tools::ppc64le_check;

int main() {
  const std::vector<ListedInsn> listing = parse_listing(std::cin);
  const Report r = compare(listing);
  fmt::print("instructions {} ({} bytes), boundaries and lengths agreed {}, prefixed {}\n", r.instructions, r.bytes,
             r.boundaries_agreed, r.prefixed);
  for (const auto& [kind, n] : r.kinds_agreed) fmt::print("  {:<6} {}\n", to_string(kind), n);
  for (const Mismatch& m : r.mismatches) fmt::print("MISMATCH {:#x}: {}\n", m.address, m.what);
  fmt::print("{} mismatches\n", r.mismatch_count);
  return r.instructions == 0 || r.mismatch_count != 0;
}
