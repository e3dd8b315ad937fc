#pragma once
// Whether a thread can arrive inside the bytes a riscv64 jump overwrites
// other than by falling through from the site: a jump at a 2-byte
// (compressed) site writes its 4-byte jal over the site and the start of
// the next instruction (jump.h), so nothing may ever start running at an
// address strictly between the site and the end of the displaced
// instructions. What is proven, and refused when it cannot be:
//
// - the whole function (and its parts placed elsewhere, FUNC.cold) decodes,
//   every instruction known: an unknown one may be a branch;
// - no direct branch (jal, the conditional branches, their compressed
//   forms, and an auipc+jalr pair, whose target is known) in the function
//   or anywhere else in the module lands inside, and no auipc+addi pair
//   takes the address of a place inside (a label taken as a value);
// - the function has no indirect jump but returns (jalr zero, 0(ra)) and
//   jumps whose target an auipc before them fixes (a tail call): a
//   switch's jump table or a computed goto may go anywhere (jump tables
//   are not read on riscv64 yet);
// - no symbol and no unwind entry (FDE) starts inside, and no FDE with a
//   language-specific data area covers it (a landing pad the unwinder
//   enters is a place no branch shows);
// - the module has a .symtab (ImageReader::functions_complete): with only
//   .dynsym a local function's branches are not seen;
// - no address the dynamic loader stores (a relocation's value) is inside,
//   where that is known.
// A thread stopped inside when the jump is armed is the core's check
// (core/site_check.cpp, over the plan's whole patch).
#include <cstdint>
#include <span>
#include <string>

#include "arch/isa.h"

namespace uptrace::arch::riscv64 {

struct Decoded;

// Why a thread may arrive inside (lo, hi) other than from lo, or "" when
// none can. `code` is the function decoded from ctx.function_start.
std::string arrival_inside(const SiteContext& ctx, std::span<const Decoded> code, uint64_t lo, uint64_t hi);

}  // namespace uptrace::arch::riscv64
