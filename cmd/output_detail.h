#pragma once
// Private to the hit writers (cmd/output.cpp and the exports beside it):
// the JSON pieces they share, and the exports' factories.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "cmd/output.h"
#include "common/hit.h"

namespace uptrace::cmd::detail {

// A JSON string of arbitrary target bytes, as --format json writes it.
void json_string(fmt::memory_buffer& out, std::string_view s);
// A hit's values as a JSON object by argument name, as --format json writes
// its "args": {"len":5,"buf":"hi"}.
void json_args(fmt::memory_buffer& out, const Hit& hit, const ProbeLabel& label);

// One --stack frame ("parse+0x4 (/usr/bin/app)") as a folded stack names
// it: "parse"; "[libc.so.6]" without a symbol, "[unknown]" outside modules.
std::string folded_frame(std::string_view frame);

// cmd/chrome_writer.cpp, cmd/folded_writer.cpp. Neither has a count mode.
std::unique_ptr<HitWriter> make_chrome_writer(int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels);
std::unique_ptr<HitWriter> make_folded_writer(int fd, bool owns_fd, std::string path, std::vector<ProbeLabel> labels);

}  // namespace uptrace::cmd::detail
