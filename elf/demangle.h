#pragma once
// C++ names as users write them: `ns::Bar::run` for _ZN2ns3Bar3runEl, and
// `ns::Bar::run(long)` for that one overload.
#include <string>
#include <string_view>

namespace uptrace::elf::detail {

struct CxxName {
  // Without the parameter list and qualifiers: "ns::Bar::run".
  std::string qualified;
  // As c++filt prints it, without GCC's " [clone .constprop.0]" notes:
  // "ns::Bar::run(long) const".
  std::string signature;
};

// Empty names when `symbol` is not a mangled C++ name.
CxxName demangle_function(std::string_view symbol);

// demangle_function(symbol).qualified.
std::string qualified_name(std::string_view symbol);

// Whether a C++ name as written has a parameter list ("ns::f(long)"); the
// parentheses of "(anonymous namespace)" are not one.
bool has_parameter_list(std::string_view name);

// Where a name's parameter list starts (npos when it has none).
size_t parameter_list_start(std::string_view name);

// Whether the character at `i` in a parameter list is a glob: '?', or a '*'
// where a parameter's type would start ("f(*)", "f(long, *)"); any other '*'
// is a pointer ("f(char**)").
bool is_parameter_glob(std::string_view params, size_t i);

// A signature with its blanks taken out, so one written by hand compares
// equal however it is spaced ("f(int,char**)" and "f(int, char**)").
std::string signature_key(std::string_view signature);

}  // namespace uptrace::elf::detail
