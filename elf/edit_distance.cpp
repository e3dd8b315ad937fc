#include <algorithm>
#include <numeric>
#include <vector>

#include "elf/elf_internal.h"

namespace uptrace::elf::detail {

size_t edit_distance(std::string_view a, std::string_view b, size_t limit) {
  size_t diff = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (diff > limit) return limit + 1;  // lengths alone rule it out
  std::vector<size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), size_t{0});
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    size_t best = row[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({up + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
      best = std::min(best, row[j]);
    }
    // Row minima never decrease, so once all exceed the limit, so will the result.
    if (best > limit) return limit + 1;
  }
  return row[b.size()];
}

}  // namespace uptrace::elf::detail
