#pragma once
// A module's file bytes by runtime address (arch::ImageReader), for what the
// jump analysis reads beyond the probed function: jump tables, the module's
// other functions, its relocations and landing pads.
#include <cstdint>
#include <memory>

#include "arch/isa.h"
#include "elf/elf_file.h"

namespace uptrace::cmd {

// A reader of `elf` loaded at `load_bias`; it keeps the file open as long as
// any site holds it.
std::shared_ptr<const arch::ImageReader> elf_image(std::shared_ptr<const elf::ElfFile> elf, uint64_t load_bias);

}  // namespace uptrace::cmd
