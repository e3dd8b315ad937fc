#pragma once
// What one run of an instruction left behind, and how two runs compare:
// completed or faulted (signal, fault_code, fault_addr, as the program would see
// them), every register, the XSAVE area and the memory it touched.
#include <cstdint>
#include <string>
#include <vector>

#include "machine_state.h"
#include "memory_scene.h"

namespace xol_diff {

struct Outcome {
  enum class Kind : uint8_t {
    Completed,  // the instruction ran; pc is where it went
    Fault,      // a signal with pc at the instruction
    Broken,     // neither: the child died, a stop the core would not handle, a tracer error
  };
  Kind kind = Kind::Broken;
  int signal = 0;
  int fault_code = 0;
  uint64_t fault_addr = 0;
  MachineState state;
  MemoryImage memory;
  std::string note;  // Broken: what happened
  // Broken because the single-step trap never came: the instruction ran and
  // the next one too (hypervisors that emulate cpuid may drop the trap).
  bool step_lost = false;
};

// Results an instruction produces that no two runs can be expected to share.
struct Unreproducible {
  std::vector<uint16_t> words;  // Regs words
  uint64_t flags = 0;           // EFLAGS bits
};

// Every difference between the in-place run and the out-of-line one; empty when they agree.
std::vector<std::string> compare(const Outcome& in_place, const Outcome& out_of_line, const Unreproducible& ignore);

// "completed", "SIGSEGV (fault_code 1, addr 0x...)", "broken: ..."
std::string summary(const Outcome& o);

}  // namespace xol_diff
