#pragma once
// A probe resolved to one address in a live process: the input to arming.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/isa.h"
#include "common/address.h"
#include "core/fetch_program.h"
#include "core/filter.h"

namespace uptrace::core {

// What a trap at a site does for one probe there.
enum class ProbeRole : uint8_t {
  Entry,        // report the hit here
  Return,       // the site is a function's entry: report each of its returns
  // uptrace's own, never reported (core/return_probes.h): the program's
  // unwinder starts walking its stack (_Unwind_RaiseException, ...), or a
  // C++ catch begins (__cxa_begin_catch).
  UnwindStart,
  CatchStart,
  // uptrace's own: the dynamic linker's r_brk (_dl_debug_state), called
  // before and after it maps or unmaps libraries (core/loader_watch.h).
  LoaderEvent,
};
// The label of a probe uptrace placed for itself.
inline constexpr uint32_t kInternalLabel = ~uint32_t{0};

struct ProbeSite {
  uint32_t label = 0;            // which output name/counter it reports to
  ProbeRole role = ProbeRole::Entry;
  std::string name;              // for messages ("work+0x4")
  RuntimeAddr addr;
  RuntimeAddr function_start;
  std::vector<uint8_t> function_code;  // as in the ELF file, from function_start
  // The module the site is in, for placing its scratch mapping nearby.
  std::string module_path;
  RuntimeAddr module_start, module_end;
  FetchProgram fetch;
  Filter filter;  // `if COND`; empty: every hit
  // Set by the resolver when it knows jump mode is unsafe here, and why.
  std::string jump_unavailable;
  // What a jump analysis checks beyond the function (arch::SiteContext has
  // each): the padding after and before it, its FUNC.cold parts, the module's bytes.
  std::vector<uint8_t> after_function;
  std::vector<uint8_t> before_function;
  struct Part {
    RuntimeAddr start;
    std::vector<uint8_t> code;
  };
  std::vector<Part> other_parts;
  std::shared_ptr<const arch::ImageReader> image;
  // Role Return, on an ISA whose calls leave the return address in a
  // register (aarch64, x30): where the function's prologue saves it, as an
  // offset from the stack pointer at the entry (from its CFI); empty when it
  // never does (a leaf keeps it in the register).
  std::optional<int64_t> return_spill;
  // A USDT marker with a semaphore: the count the program checks before it
  // prepares the marker's arguments. Raised by one while the probe is armed
  // (through the PatchJournal, so every exit path lowers it again).
  std::optional<RuntimeAddr> semaphore;
};

}  // namespace uptrace::core
