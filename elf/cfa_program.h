#pragma once
// A look into raw call-frame instructions (a CIE's initial instructions or an
// FDE's instructions) for what libdw does not interpret: the AArch64
// return-address signing state. Pure: unit-tested on bytes.
#include <cstddef>
#include <cstdint>
#include <span>

namespace uptrace::elf {

struct CfaProgramScan {
  // Every instruction was decoded to the end (false: an opcode this scanner
  // does not know, or a truncated operand; what came before still counts).
  bool complete = false;
  // DW_CFA_AARCH64_negate_ra_state (0x2d, the opcode SPARC's
  // DW_CFA_GNU_window_save also uses) or ..._with_pc (0x2c): on aarch64, the
  // return address is signed (pointer authentication) from there on.
  bool negates_ra_state = false;
};

// `set_loc_encoding` is the DW_EH_PE encoding of DW_CFA_set_loc's operand
// (.eh_frame: the CIE's FDE pointer encoding; .debug_frame: DW_EH_PE_absptr),
// `addr_size` the size of an absolute address.
CfaProgramScan scan_cfa_program(std::span<const uint8_t> program, uint8_t set_loc_encoding, size_t addr_size,
                                bool big_endian);

}  // namespace uptrace::elf
