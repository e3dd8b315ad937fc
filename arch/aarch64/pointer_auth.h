#pragma once
// Pointer authentication (FEAT_PAuth) of the return address. A function built
// with -mbranch-protection=pac-ret signs x30 at entry (paciasp, with sp as
// the modifier) before its prologue saves it, and authenticates it before
// returning (autiasp; ret, or retaa). A %return probe on such a function
// would have the trampoline's address signed and saved in the frame: it
// authenticates and returns correctly while uptrace is attached, but at
// detach the saved word would have to become the real return address signed
// with the thread's key, which only the thread itself can compute. So those
// functions are refused (aarch64_isa.cpp, return_hijack_refusal).
#include <cstdint>

namespace uptrace::arch::aarch64 {

// Whether the instruction word signs or authenticates x30, the return
// address: paciasp/pacibsp/paciaz/pacibz and their aut* twins (hint space,
// no-ops on a CPU without PAuth), retaa/retab, and the register forms
// (pacia/pacib/paciza/pacizb/autia/... with x30 as the destination).
bool uses_return_address_auth(uint32_t word);

}  // namespace uptrace::arch::aarch64
