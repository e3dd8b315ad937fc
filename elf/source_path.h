#pragma once
// How SRCFILE in a SRCFILE:LINE probe is compared with the file names DWARF
// records. Private to elf/ (and its tests).
#include <string>
#include <string_view>

namespace uptrace::elf::detail {

// Lexically normalized path: no "." components, no empty components, "x/.."
// folded. Keeps a leading "/".
std::string normalize_path(std::string_view path);
// Whether `query` names `path` exactly or as its trailing components.
bool path_matches(std::string_view path, std::string_view query);

}  // namespace uptrace::elf::detail
