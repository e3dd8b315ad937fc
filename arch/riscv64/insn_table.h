#pragma once
// The RISC-V instructions uptrace decodes (RV64GC: I, M, A, F, D, C, Zicsr,
// Zifencei; and Zba, Zbb, Zbs, Zicond, Zihintpause), as two tables:
//
// - 32-bit rows: a mask/value pattern over the instruction word, the
//   mnemonic and operand layout the text is printed with, the class that
//   decides how a probe there is executed, and the reason for it. Aliases
//   (li, mv, ret, beqz, ...) are rows of their own with narrower patterns,
//   listed before the instruction they print, as objdump prints them.
// - compressed rows: a mask/value pattern over the 16-bit parcel and the
//   32-bit instruction it stands for. A compressed instruction is printed,
//   and classified, as that instruction (objdump prints c.addi16sp as
//   "addi sp,sp,-32" too); the analysis still knows it is 2 bytes long.
//
// A word no row matches is not an instruction uptrace knows: it is listed
// with its length (which the first parcel always tells) and refused.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace uptrace::arch::riscv64 {

enum class InsnClass : uint8_t {
  Trap,              // refused: a breakpoint or trap instruction of some variant
  Refused,           // refused for the row's reason
  Plain,             // stepped out of line: copy; c.ebreak, then pc = site + length
  Jal,               // jal, c.j: emulated
  Jalr,              // jalr, c.jr, c.jalr: emulated
  Branch,            // beq..bgeu, c.beqz, c.bnez: emulated
  Auipc,             // emulated, or stepped with its result moved to the site's address
  Skip,              // nop, c.nop: emulated as no effect
  LoadReserved,      // lr.w, lr.d: refused; opens a reservation sequence
  StoreConditional,  // sc.w, sc.d: refused; closes it
};

// How the operands are printed (and which fields they come from).
enum class Format : uint8_t {
  None,         // ecall
  RdRs1Rs2,     // add rd, rs1, rs2
  RdRs1,        // mv rd, rs1 / sext.b rd, rs1
  RdRs2,        // neg rd, rs2 (sub rd, zero, rs2)
  RdRs1Imm,     // addi rd, rs1, -16
  RdImm,        // li rd, -16
  RdRs1Shamt,   // slli rd, rs1, 0x20
  RdUimm20,     // lui rd, 0x12345
  Load,         // ld rd, 8(rs1)
  Store,        // sd rs2, 8(rs1)
  FLoad,        // fld fd, 8(rs1)
  FStore,       // fsd fs2, 8(rs1)
  Branch,       // beq rs1, rs2, target
  BranchRs1,    // beqz rs1, target
  BranchRs2,    // blez rs2, target (bge zero, rs2)
  Jump,         // j target
  RdJump,       // jal rd, target
  Rs1,          // jr rs1 / fsflags rs1
  Rs1Offset,    // jr 8(rs1)
  RdRs1Jalr,    // jalr rd, rs1
  RdOffsetRs1,  // jalr rd, 8(rs1)
  Amo,          // amoadd.w[.aq][.rl] rd, rs2, (rs1)
  Lr,           // lr.w[.aq][.rl] rd, (rs1)
  Fence,        // fence pred, succ
  Csr,          // csrrw rd, csr, rs1
  CsrImm,       // csrrwi rd, csr, uimm
  CsrRead,      // csrr rd, csr
  CsrWrite,     // csrw csr, rs1
  CsrWriteImm,  // csrwi csr, uimm
  Rd,           // frflags rd
  SfenceVma,    // sfence.vma [rs1[, rs2]]
  RdUimm,       // fsrmi rd, uimm (objdump has no form without rd)
  F3Rm,         // fadd.d fd, fs1, fs2[, rm]
  F3,           // fsgnj.d fd, fs1, fs2
  F4Rm,         // fmadd.d fd, fs1, fs2, fs3[, rm]
  F2Rm,         // fsqrt.d fd, fs1[, rm]
  F2,           // fmv.d fd, fs1
  F2Exact,      // fcvt.d.s fd, fs1[, rm]: exact, so rm is shown only when it is not rne, the assemblers' choice
  XF,           // fmv.x.d rd, fs1
  XFRm,         // fcvt.l.d rd, fs1[, rm]
  XFF,          // feq.d rd, fs1, fs2
  FX,           // fmv.d.x fd, rs1
  FXExact,      // fcvt.d.w fd, rs1[, rm]: as F2Exact
  FXRm,         // fcvt.d.l fd, rs1[, rm]
};

// A condition a pattern cannot say.
enum class Constraint : uint8_t { None, Rs1EqRs2 };

struct InsnRow {
  std::string_view name;  // the mnemonic printed
  uint32_t mask = 0;
  uint32_t value = 0;
  Format format = Format::None;
  InsnClass cls = InsnClass::Plain;
  std::string_view ext;  // "I", "M", "A", "F", "D", "Zicsr", "Zifencei", "Zba", ...
  // For a refusal, a phrase that follows the instruction's name ("is a
  // system call: ..."); otherwise why the class needs its handling.
  std::string_view reason = {};
  Constraint constraint = Constraint::None;

  bool matches(uint32_t word) const;
};

// What a compressed instruction stands for.
enum class Expansion : uint8_t {
  Unimp, Addi4spn, Fld, Lw, Ld, Fsd, Sw, Sd,
  Nop, Addi, Addiw, Li, Addi16sp, Lui, Srli, Srai, Andi, Sub, Xor, Or, And, Subw, Addw, J, Beqz, Bnez,
  Slli, Fldsp, Lwsp, Ldsp, Jr, Mv, Ebreak, Jalr, Add, Fsdsp, Swsp, Sdsp,
};

struct CompressedRow {
  std::string_view name;  // "c.addi16sp"
  uint16_t mask = 0;
  uint16_t value = 0;
  Expansion expansion = Expansion::Nop;

  bool matches(uint16_t parcel) const { return (parcel & mask) == value; }
};

// All rows, in match order (the first match wins).
std::span<const InsnRow> insn_rows();
std::span<const CompressedRow> compressed_rows();

// The first 32-bit row the word matches, or null for an unknown word.
const InsnRow* classify(uint32_t word);
// The first compressed row the parcel matches, or null.
const CompressedRow* classify_compressed(uint16_t parcel);
// The 32-bit instruction a compressed one stands for; nullopt for the
// reserved encodings inside a row (c.addi4spn with a zero immediate, c.lwsp
// to x0, ...).
std::optional<uint32_t> expand(const CompressedRow& row, uint16_t parcel);

// Whether a class is refused at analysis.
constexpr bool is_refused(InsnClass c) {
  return c == InsnClass::Trap || c == InsnClass::Refused || c == InsnClass::LoadReserved ||
         c == InsnClass::StoreConditional;
}

}  // namespace uptrace::arch::riscv64
