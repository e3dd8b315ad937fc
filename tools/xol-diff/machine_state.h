#pragma once
// A thread's architectural state as ptrace reads and writes it: the general
// registers (NT_PRSTATUS) and the XSAVE area (NT_X86_XSTATE: x87, xmm, ymm,
// zmm, opmask), and the starting states xol-diff runs instructions from.
#include <cstdint>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "layout.h"

namespace xol_diff {

struct MachineState {
  uptrace::arch::Regs regs;
  std::vector<uint8_t> xstate;
};

// Offsets in the XSAVE area (standard format, as ptrace uses it).
namespace xsave {
constexpr size_t kFop = 6;        // x87 last opcode, instruction and data pointers:
constexpr size_t kFpuPtrsEnd = 24;  // bytes [kFop, kFpuPtrsEnd) say where the last x87 insn ran
constexpr size_t kXmm = 160;
constexpr size_t kHeader = 512;   // xstate_bv
}  // namespace xsave

// Name of the register a byte of the XSAVE area belongs to ("xmm3", "ymm3.hi", "k2", ...).
std::string xstate_field(size_t offset);

// The base state: every general-purpose register points into the sandbox at
// a distinct place, rsp into the stack, fs/gs bases into the sandbox, flags
// with CF PF AF ZF SF set, and every vector register holding a distinct
// pattern. `own` is the child's state when it stopped (segment selectors,
// the XSAVE layout and size).
MachineState base_state(const MachineState& own);

// The pristine contents of the sandbox and the stack: words that are
// canonical addresses in the sandbox alternate with pseudo-random words.
std::vector<uint8_t> sandbox_pattern();
std::vector<uint8_t> stack_pattern();

}  // namespace xol_diff
