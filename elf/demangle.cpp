#include "elf/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace uptrace::elf::detail {

std::string qualified_name(std::string_view symbol) {
  if (!symbol.starts_with("_Z")) return {};
  std::string mangled(symbol);
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> text(abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status),
                                                   &std::free);
  if (status != 0 || !text) return {};
  std::string name = text.get();
  // Cut the last top-level parameter list and what follows it (const, &):
  // the one that closes at the last ')'.
  size_t close = name.rfind(')');
  if (close == std::string::npos) return name;
  int depth = 0;
  for (size_t i = close + 1; i-- > 0;) {
    if (name[i] == ')') ++depth;
    if (name[i] == '(' && --depth == 0) return name.substr(0, i);
  }
  return name;
}

}  // namespace uptrace::elf::detail
