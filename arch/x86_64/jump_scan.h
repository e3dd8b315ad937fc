#pragma once
// A function's code decoded for the jump analysis (jump_targets.h): its
// instructions with their class, what each writes, and the module's direct
// branches, decoded once per module.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "arch/isa.h"
#include "arch/x86_64/decoder.h"
#include "arch/x86_64/insn_table.h"

namespace uptrace::arch::x86_64::jump_analysis {

constexpr size_t kMaxInsnLength = 15;

struct Scanned {
  Decoded d;
  InsnClass cls;
};

// One decoded part and how to name a place in it.
struct Part {
  RuntimeAddr start;
  bool elsewhere = false;  // a FUNC.cold part rather than the function itself
  std::vector<Scanned> insns;
  // Instructions Capstone 4 cannot decode were stepped over (not listed, so
  // what they write is not known).
  bool gaps = false;

  std::string where(uint64_t at) const {
    return elsewhere ? fmt::format("{:#x} (in a part of the function placed elsewhere)", at)
                     : fmt::format("+{:#x}", at - start.value);
  }
};

std::optional<unsigned> family(const Operand& op);

bool is_reg(const Operand& op, unsigned n, uint8_t size = 8);

// The general-purpose registers an instruction may write: Capstone's list
// (cs_regs_access), with what Capstone 4 leaves out of it. Checked against
// Capstone 4.0.2: it lists none of cmpxchg's rax, xlatb's al, enter's rbp
// and rsp, syscall's rax, rcx and r11; it does list cmpxchg8b/16b's,
// cpuid's, rdtsc(p)'s, one-operand mul/div/imul's, cwd/cdq/cqo's, the
// string instructions', xchg's and xadd's, loop's and push/pop's. The
// known gaps and the instructions a kernel or a trap runs behind (their
// writes are anyone's) are added here; an instruction the analysis does not
// classify writes every register.
uint16_t writes(const Scanned& s);

// Instructions the idiom may have between its parts: they write one
// register, named by their first operand, and nothing else.
bool writes_only_first_operand(const Scanned& s);

bool adjacent(const Scanned& before, const Scanned& after);

uint16_t address_registers(const Operand& m);

// The length of a VEX or EVEX instruction Capstone 4 cannot decode
// (AVX-512's vpcmpeqb k, ymm, m, imm8 and vptestmb; kmovd), or of rdpkru
// and wrpkru; nullopt for anything else. None of them is a branch, so the
// function's decode only needs to step over them. The length is the
// prefixes and opcode, the ModRM operand (with SIB and displacement) and an
// imm8 where the opcode has one.
std::optional<size_t> non_branch_length(std::span<const uint8_t> code);

std::optional<Part> decode_part(const Decoder& decoder, RuntimeAddr start, std::span<const uint8_t> code,
                                bool elsewhere, std::string& why_not);

bool is_direct_branch(InsnClass cls);

// Every direct branch in the module, by target: (target, branch address).
using ModuleBranches = std::vector<std::pair<uint64_t, uint64_t>>;

// The module's branches, decoded once per reader (ImageReader::derived).
// A function that cannot be decoded to its end is read up to there.
std::shared_ptr<const ModuleBranches> module_branches(const Decoder& decoder, const ImageReader& image);

struct Loc {
  const Part* part = nullptr;
  size_t i = 0;
  const Scanned& insn() const { return part->insns[i]; }
  uint64_t at() const { return part->insns[i].d.insn.address.value; }
};

// Registers a call may change (the System V ABI's caller-saved ones); the
// others a callee restores, which the compiled code itself relies on.
constexpr uint16_t kCallerSaved = 0x0fc7;  // rax rcx rdx rsi rdi r8-r11

bool falls_through(const Scanned& s);

}  // namespace uptrace::arch::x86_64::jump_analysis
