#pragma once
// The check that xol-diff can see a wrong plan at all: a plan wrapped so
// that every way it ends (emulated, stepped, aborted) leaves one register
// off by one bit. Run with --mutate, every executed boundary must mismatch.
#include <memory>

#include "arch/isa.h"

namespace xol_diff {

std::unique_ptr<uptrace::arch::ProbePlan> mutated(std::unique_ptr<uptrace::arch::ProbePlan> plan);

}  // namespace xol_diff
