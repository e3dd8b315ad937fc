#include "elf/demangle.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

namespace uptrace::elf::detail {

CxxName demangle_function(std::string_view symbol) {
  if (!symbol.starts_with("_Z")) return {};
  std::string mangled(symbol);
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> text(abi::__cxa_demangle(mangled.c_str(), nullptr, nullptr, &status),
                                                   &std::free);
  if (status != 0 || !text) return {};
  CxxName out;
  out.signature = text.get();
  // GCC's clones (".constprop.0", ".isra.0", ".cold") demangle with one
  // " [clone .x]" note each, after everything else.
  if (size_t clone = out.signature.find(" [clone "); clone != std::string::npos) out.signature.resize(clone);
  const std::string& name = out.signature;
  // Cut the last top-level parameter list and what follows it (const, &):
  // the one that closes at the last ')'.
  size_t close = name.rfind(')');
  out.qualified = name;
  if (close == std::string::npos) return out;
  int depth = 0;
  for (size_t i = close + 1; i-- > 0;) {
    if (name[i] == ')') ++depth;
    if (name[i] == '(' && --depth == 0) {
      out.qualified = name.substr(0, i);
      break;
    }
  }
  return out;
}

std::string qualified_name(std::string_view symbol) { return demangle_function(symbol).qualified; }

size_t parameter_list_start(std::string_view name) {
  // As c++filt prints it, and as signature_key() leaves it.
  constexpr std::string_view kAnonymous[] = {"(anonymous namespace)", "(anonymousnamespace)"};
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '(') continue;
    bool anonymous = false;
    for (std::string_view a : kAnonymous) {
      if (!name.substr(i).starts_with(a)) continue;
      i += a.size() - 1;
      anonymous = true;
      break;
    }
    if (!anonymous) return i;
  }
  return std::string_view::npos;
}

bool has_parameter_list(std::string_view name) { return parameter_list_start(name) != std::string_view::npos; }

bool is_parameter_glob(std::string_view params, size_t i) {
  if (params[i] == '?') return true;
  if (params[i] != '*') return false;
  size_t j = i;
  while (j > 0 && (params[j - 1] == ' ' || params[j - 1] == '\t')) --j;
  return j == 0 || params[j - 1] == '(' || params[j - 1] == ',';
}

std::string signature_key(std::string_view signature) {
  std::string key;
  key.reserve(signature.size());
  for (char c : signature)
    if (c != ' ' && c != '\t') key += c;
  return key;
}

}  // namespace uptrace::elf::detail
