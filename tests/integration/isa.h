#pragma once
// Tests that hold on one instruction set only: they name its registers,
// instructions, encodings or offsets, or trace a target written in its
// assembly (tests/targets, built only for that ISA). Add the tag to the
// test's tags: TEST_CASE("...", "[errors]" ONLY_X86_64).
// On another ISA the test is still compiled but hidden ("[.]"), so ctest does
// not discover it, and tests/cross/run lists it as skipped, naming the ISA.
#if defined(__x86_64__)
#define ONLY_X86_64 "[x86_64]"
#else
#define ONLY_X86_64 "[.][x86_64]"
#endif
#if defined(__aarch64__)
#define ONLY_AARCH64 "[aarch64]"
#else
#define ONLY_AARCH64 "[.][aarch64]"
#endif
#if defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define ONLY_PPC64LE "[ppc64le]"
#else
#define ONLY_PPC64LE "[.][ppc64le]"
#endif
