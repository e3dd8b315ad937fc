// Where a function keeps its return address, from its CFI: libdw evaluates
// the CFI rows (dwarf_cfi_addrframe, dwarf_frame_register); the raw
// instructions are looked at only for the AArch64 signing state, which libdw
// reads but does not report.
#include <dwarf.h>

#include <fmt/format.h>

#include "common/signed_hex.h"
#include "elf/cfa_program.h"
#include "elf/elf_internal.h"

namespace uptrace::elf::detail {
namespace {

constexpr uint16_t kEmAArch64 = 183;

struct CfiDeleter {
  void operator()(Dwarf_CFI* c) const { dwarf_cfi_end(c); }
};
using CfiPtr = std::unique_ptr<Dwarf_CFI, CfiDeleter>;

struct FrameDeleter {
  void operator()(Dwarf_Frame* f) const { free(f); }  // NOLINT: libdw mallocs it
};
using FramePtr = std::unique_ptr<Dwarf_Frame, FrameDeleter>;

FramePtr frame_at(Dwarf_CFI* cfi, uint64_t pc) {
  Dwarf_Frame* f = nullptr;
  if (cfi == nullptr || dwarf_cfi_addrframe(cfi, pc, &f) != 0) return nullptr;
  return FramePtr(f);
}

}  // namespace

ReturnAddressRule read_return_address_rule(Elf* elf, Dwarf* dwarf, uint16_t machine, FileAddr start, FileAddr end) {
  ReturnAddressRule rule;
  // .eh_frame first (the loader's own), .debug_frame otherwise.
  CfiPtr eh(dwarf_getcfi_elf(elf));
  Dwarf_CFI* cfi = nullptr;
  FramePtr first;
  for (Dwarf_CFI* c : {eh.get(), dwarf != nullptr ? dwarf_getcfi(dwarf) : nullptr}) {
    if ((first = frame_at(c, start.value))) {
      cfi = c;
      break;
    }
  }
  if (!first) return rule;
  rule.has_cfi = true;
  Dwarf_Addr row_start = 0, row_end = 0;
  bool signal_frame = false;
  const int ra = dwarf_frame_info(first.get(), &row_start, &row_end, &signal_frame);
  if (ra < 0) {
    rule.unsupported = "its CFI names no return-address register";
    return rule;
  }
  rule.ra_column = static_cast<unsigned>(ra);
  Dwarf_Op* ops = nullptr;
  size_t nops = 0;
  if (dwarf_frame_cfa(first.get(), &ops, &nops) == 0 && nops == 1) {
    if (ops[0].atom == DW_OP_bregx) {
      rule.cfa_known = true;
      rule.cfa_register = static_cast<unsigned>(ops[0].number);
      rule.cfa_offset = static_cast<int64_t>(ops[0].number2);
    } else if (ops[0].atom >= DW_OP_breg0 && ops[0].atom <= DW_OP_breg31) {
      rule.cfa_known = true;
      rule.cfa_register = ops[0].atom - DW_OP_breg0;
      rule.cfa_offset = static_cast<int64_t>(ops[0].number);
    }
  }

  // Row by row through the function: where is the return address?
  FramePtr frame = std::move(first);
  uint64_t pc = start.value;
  while (frame) {
    if (dwarf_frame_info(frame.get(), &row_start, &row_end, &signal_frame) < 0) break;
    Dwarf_Op mem[3];
    ops = nullptr;
    nops = 0;
    if (dwarf_frame_register(frame.get(), ra, mem, &ops, &nops) != 0) {
      rule.unsupported = fmt::format("its CFI cannot be read at +{:#x}", pc - start.value);
      return rule;
    }
    const std::string at = fmt::format("+{:#x}", pc - start.value);
    if (nops > 0) {
      // offset(N): DW_OP_call_frame_cfa [DW_OP_plus_uconst N].
      std::optional<int64_t> offset;
      if (ops[0].atom == DW_OP_call_frame_cfa && nops == 1) offset = 0;
      if (ops[0].atom == DW_OP_call_frame_cfa && nops == 2 && ops[1].atom == DW_OP_plus_uconst)
        offset = static_cast<int64_t>(ops[1].number);
      // register(R): DW_OP_regR, DW_OP_regx R.
      std::optional<unsigned> reg;
      if (nops == 1 && ops[0].atom == DW_OP_regx) reg = static_cast<unsigned>(ops[0].number);
      if (nops == 1 && ops[0].atom >= DW_OP_reg0 && ops[0].atom <= DW_OP_reg31) reg = ops[0].atom - DW_OP_reg0;
      if (reg) {
        if (*reg != rule.ra_column && !rule.via_register) {
          rule.via_register = reg;
          rule.via_from = FileAddr(pc);
        }
      } else if (!offset) {
        rule.unsupported = fmt::format("its CFI computes the return address with an expression at {}", at);
        return rule;
      }
      if (!offset) {
        // In a register for now: nothing to compare with a save.
      } else if (!rule.saved_at) {
        rule.saved_at = offset;
        rule.saved_from = FileAddr(pc);
      } else if (*rule.saved_at != *offset) {
        rule.unsupported = fmt::format("its CFI saves the return address at two places (CFA{} and, from {}, CFA{})",
                                       signed_hex(*rule.saved_at), at, signed_hex(*offset));
        return rule;
      }
    }
    if (row_end <= pc || row_end >= end.value) break;
    pc = row_end;
    frame = frame_at(cfi, pc);
  }

  if (machine == kEmAArch64) {
    for_each_fde(elf, [&](const FdeView& fde) {
      if (start < fde.start || start >= fde.end) return true;
      for (std::span<const uint8_t> program : {fde.cie_program, fde.fde_program})
        if (scan_cfa_program(program, fde.fde_encoding, fde.addr_size, fde.big_endian).negates_ra_state)
          rule.signed_ra = true;
      return !rule.signed_ra;
    });
  }
  return rule;
}

}  // namespace uptrace::elf::detail
