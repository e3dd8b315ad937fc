#pragma once
// Spreading the boundaries of one corpus over worker processes, each with
// its own sacrificial child pinned to its own CPU, and collecting their
// verdicts. Processes rather than threads: Capstone handles and ptrace
// tracer identity are per process and per thread respectively.
#include <cstddef>

#include "corpus.h"
#include "insn_facts.h"
#include "layout.h"
#include "tally.h"

namespace xol_diff {

struct WorkOptions {
  unsigned jobs = 1;
  bool progress = false;
  bool mutate = false;  // see mutation.h
};

// Tests `boundaries` (indexes into corpus.boundaries) and adds every verdict
// to `tally`. Throws std::runtime_error when a worker fails.
void run_workers(const Corpus& corpus, const std::vector<size_t>& boundaries, const Layout& layout,
                 const FactsDecoder& decoder, const WorkOptions& options, Tally& tally);

}  // namespace xol_diff
