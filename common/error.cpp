#include "common/error.h"

#include <cstring>

namespace uptrace {

std::string errno_text(int err) { return std::strerror(err); }

}  // namespace uptrace
