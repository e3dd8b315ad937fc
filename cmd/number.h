#pragma once
// Numbers of the probe grammar: decimal or 0x-hex, nothing else.
#include <cstdint>
#include <string_view>

namespace uptrace::cmd {

enum class NumberStatus { Ok, NotANumber, TooLarge };

// A leading 0 does not mean octal: users copy offsets from objdump/gdb,
// where "010" would silently become 8. `out` is set only when Ok.
NumberStatus parse_number(std::string_view s, uint64_t& out);

}  // namespace uptrace::cmd
