#pragma once
// C++ names as users write them: `ns::Bar::run` for _ZN2ns3Bar3runEl.
#include <string>
#include <string_view>

namespace uptrace::elf::detail {

// The demangled name without its parameter list and qualifiers
// ("ns::Bar::run" for "ns::Bar::run(long) const"); empty when `symbol` is
// not a mangled C++ name.
std::string qualified_name(std::string_view symbol);

}  // namespace uptrace::elf::detail
