#pragma once
// Where the branches of a function can land, for jump plans: a jump probe
// overwrites bytes site..site+N-1 with one jmp, so no branch anywhere in the
// function or in its parts placed elsewhere (FUNC.cold) may land on bytes
// 1..N-1. Direct branches say where they go. An indirect jump is accepted
// only when its targets are proven: a switch's jump table (GCC's and
// clang's PIC idiom `lea base; movsxd r, [base + idx*4]; add r, base;
// jmp r`, bounded by the `cmp idx, imm; ja/jae` right before it or by a
// movzx of a byte, as objtool and BOLT read them) has each entry read from
// the module's file, its base proven over every path to the load when the
// lea is in an earlier block; any other
// indirect jump (a tail call through a pointer, a computed goto) reaches
// only code addresses something stored or took, and in a position-
// independent module each of those is a relocation's value, a rip-relative
// lea in the function, or a table entry: none may be inside.
#include <cstdint>
#include <string>

#include "arch/isa.h"

namespace uptrace::arch::x86_64 {

class Decoder;

// Why a branch in ctx's function or other parts may land inside (lo, hi),
// or "" when none can.
std::string branch_into(const Decoder& decoder, const SiteContext& ctx, uint64_t lo, uint64_t hi);

}  // namespace uptrace::arch::x86_64
