#pragma once
// USDT markers (SystemTap SDT, <sys/sdt.h>): a nop in the code, described by
// a note in .note.stapsdt: provider, name, the nop's address, the address of
// its semaphore if it has one, and where each argument is at the nop, in the
// assembler's own syntax ("-4@%edi 8@-16(%rbp)" on x86-64, "-4@x0 8@[sp, 16]"
// on aarch64). Addresses are FileAddrs.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"

namespace uptrace::elf {

struct SdtArg {
  enum class Kind : uint8_t {
    Register,     // in `reg`
    Memory,       // at `reg` + `offset`
    Constant,     // the number `value`
    Unsupported,  // a form uptrace does not read; `why` says which
  };
  Kind kind = Kind::Unsupported;
  unsigned size = 8;       // bytes: 1, 2, 4 or 8
  bool is_signed = false;  // a negative size in the note
  std::string reg;         // as the ISA names it (register_by_name): "edi", "rbp", "x0", "w1", "sp"
  int64_t offset = 0;
  int64_t value = 0;
  std::string text;        // as the note has it: "-4@%edi"
  std::string why;
};

struct SdtMarker {
  std::string provider;
  std::string name;
  FileAddr pc;                        // the nop
  std::optional<FileAddr> semaphore;  // its unsigned short count, when it has one
  std::string args_text;              // all of them, as the note has them
  std::vector<SdtArg> args;
};

// One argument of a marker in a file for ELF machine `machine` (EM_X86_64,
// EM_AARCH64; any other gives Unsupported arguments): "[-]SIZE@LOCATION",
// or a bare LOCATION in notes too old to have sizes (8 bytes, signed).
SdtArg parse_sdt_arg(std::string_view text, uint16_t machine);
// All of them, space-separated as in the note.
std::vector<SdtArg> parse_sdt_args(std::string_view text, uint16_t machine);

}  // namespace uptrace::elf
