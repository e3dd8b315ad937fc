// riscv64-objdump-check: reads `riscv64-linux-gnu-objdump -d FILE` on stdin
// and compares uptrace's decoder with it (objdump_check.h). Prints the
// numbers; exits 1 if any boundary, length or class differs, or (with
// --text) any text. Run by tests/cross/riscv64-objdump-check.sh.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "objdump_check.h"

int main(int argc, char** argv) {
  bool strict_text = argc > 1 && std::strcmp(argv[1], "--text") == 0;
  // RISCV64_CHECK_EXAMPLES: how many differences to list (default 40).
  const char* examples = std::getenv("RISCV64_CHECK_EXAMPLES");
  const auto report = uptrace::arch::riscv64::test::check_objdump(std::cin, examples ? std::strtoul(examples, nullptr, 10) : 40);
  std::fputs(uptrace::arch::riscv64::test::summary(report).c_str(), stdout);
  if (report.objdump_insns == 0) {
    std::fputs("riscv64-objdump-check: no instruction lines on stdin\n", stderr);
    return 2;
  }
  if (!report.boundaries_and_classes_agree() || (strict_text && report.text_mismatches > 0)) return 1;
  return 0;
}
