#pragma once
// The class an instruction is counted under in xol-diff's table: the row of
// uptrace's own instruction table it matches (arch/x86_64/insn_table.h), or
// for the unlisted ("plain") ones the encoding family and whether it is
// rip-relative.
#include <cstdint>
#include <span>
#include <string>

#include "arch/x86_64/insn_table.h"

namespace xol_diff {

inline constexpr const char* kUndecodableClass = "undecodable by Capstone 4";

struct ClassInfo {
  std::string name;
  uptrace::arch::x86_64::InsnClass cls = uptrace::arch::x86_64::InsnClass::Plain;

  // Writes or reads the stack in a way the plans handle specially.
  bool stack_class() const;
  // Taken or not depends on flags or rcx.
  bool conditional() const;
};

ClassInfo classify_insn(std::span<const uint8_t> bytes, bool rip_relative);

}  // namespace xol_diff
