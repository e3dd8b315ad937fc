#pragma once
// Fetch arguments bound to an ISA once, when the probe is resolved (unknown
// registers are usage errors then), and evaluated on every hit against the
// stopped thread's registers and memory.
#include <memory>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "common/fetch.h"

namespace uptrace::core {

class TraceeMemory;

class FetchProgram {
 public:
  FetchProgram() = default;
  // Throws Error(Usage) naming `probe_text` for a register the ISA lacks or
  // $retval outside a return probe.
  FetchProgram(const arch::Isa& isa, const std::vector<FetchArg>& args, const std::string& probe_text,
               bool is_return_probe);

  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }
  // One value per argument; unreadable memory gives a fault value.
  void evaluate(const arch::Regs& regs, uint64_t probe_pc, MemoryAccess& mem, std::vector<FetchedValue>& out) const;

  // What a jump trampoline must record so that evaluate() can run later in
  // uptrace without the target's memory: the register words it reads. Empty
  // `why_not` when registers are enough.
  struct Captures {
    std::vector<uint16_t> words;
    std::string why_not;
  };
  Captures register_captures() const;

  struct Node;  // the bound expression tree

 private:
  struct Op {
    std::shared_ptr<const Node> root;
    FetchType type;
  };
  const arch::Isa* isa_ = nullptr;
  std::vector<Op> ops_;
};

}  // namespace uptrace::core
