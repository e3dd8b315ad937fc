#include "core/backtrace.h"

#include <elfutils/libdwfl.h>

#include <array>

#include <fmt/format.h>

#include "elf/debug_file.h"
#include "elf/demangle.h"

namespace uptrace::core {

namespace {

// What the callbacks need during one capture.
struct Capture {
  const arch::Isa* isa = nullptr;
  const Thread* thread = nullptr;
  AddressSpace* space = nullptr;
  const arch::Regs* regs = nullptr;
  const ReturnProbes* returns = nullptr;
};

pid_t no_next_thread(Dwfl*, void*, void**) { return 0; }

bool get_thread(Dwfl*, pid_t, void* dwfl_arg, void** thread_argp) {
  // The thread asked for is the one stopped at the hit; the session goes on
  // to set_initial_registers, which gets nothing else.
  *thread_argp = dwfl_arg;
  return true;
}

}  // namespace

struct Backtracer::Session {
  pid_t pid = 0;
  Dwfl* dwfl = nullptr;
  Capture now;
  // Where separate debug files are (the resolver's too): their .symtab names
  // a stripped module's local functions.
  std::string search_path = elf::debuginfo_path();
  char* debuginfo_path = search_path.data();
  Dwfl_Callbacks callbacks{};

  ~Session() {
    if (dwfl) dwfl_end(dwfl);
  }

  static bool memory_read(Dwfl*, Dwarf_Addr addr, Dwarf_Word* result, void* arg) {
    auto* s = static_cast<Session*>(arg);
    uint64_t v = 0;
    if (!s->now.space->memory.read(RuntimeAddr(addr), {reinterpret_cast<uint8_t*>(&v), sizeof v})) return false;
    *result = s->now.returns->real_value(*s->now.thread, addr, v, s->now.space->return_trampoline);
    return true;
  }

  static bool set_initial_registers(Dwfl_Thread* thread, void* thread_arg) {
    auto* s = static_cast<Session*>(thread_arg);
    const arch::Isa& isa = *s->now.isa;
    if (isa.dwarf_register_map().empty()) return false;
    // A link register holding the trampoline (a hijacked leaf, or a
    // prologue that has not saved it yet) unwinds to the real caller.
    const uint64_t sp = isa.sp(*s->now.regs);
    for (const arch::DwarfRegister& d : isa.dwarf_register_map()) {
      Dwarf_Word value = s->now.returns->real_register(*s->now.thread, sp, arch::read_register(*s->now.regs, d.reg),
                                                       s->now.space->return_trampoline);
      if (!dwfl_thread_state_registers(thread, d.number, 1, &value)) return false;
    }
    dwfl_thread_state_register_pc(thread, s->now.isa->pc(*s->now.regs));
    return true;
  }
};

Backtracer::Backtracer(const arch::Isa& isa) : isa_(isa) {}

Backtracer::~Backtracer() = default;

namespace {

const Dwfl_Thread_Callbacks kThreadCallbacks = {
    no_next_thread, get_thread, Backtracer::Session::memory_read, Backtracer::Session::set_initial_registers,
    nullptr,        nullptr,
};

}  // namespace

void Backtracer::capture(const Thread& t, AddressSpace& space, const arch::Regs& regs, const ReturnProbes& returns,
                         std::vector<std::string>& out) {
  out.clear();
  uint64_t pc = isa_.pc(regs);
  auto it = sessions_.find(t.pid);
  // A module mapped since the session was made (dlopen) needs a new report.
  if (it != sessions_.end() && !dwfl_addrmodule(it->second->dwfl, pc)) {
    sessions_.erase(it);
    it = sessions_.end();
  }
  if (it == sessions_.end()) {
    auto s = std::make_unique<Session>();
    s->pid = t.pid;
    s->callbacks.find_elf = dwfl_linux_proc_find_elf;
    s->callbacks.find_debuginfo = dwfl_standard_find_debuginfo;
    s->callbacks.debuginfo_path = &s->debuginfo_path;
    s->dwfl = dwfl_begin(&s->callbacks);
    if (!s->dwfl) return;
    if (dwfl_linux_proc_report(s->dwfl, t.pid) != 0 || dwfl_report_end(s->dwfl, nullptr, nullptr) != 0) return;
    if (!dwfl_attach_state(s->dwfl, nullptr, t.pid, &kThreadCallbacks, s.get())) return;
    it = sessions_.emplace(t.pid, std::move(s)).first;
  }
  Session& s = *it->second;
  s.now = Capture{&isa_, &t, &space, &regs, &returns};

  struct Walk {
    Dwfl* dwfl;
    std::vector<std::string>* out;
  } walk{s.dwfl, &out};
  auto on_frame = [](Dwfl_Frame* frame, void* arg) -> int {
    auto* w = static_cast<Walk*>(arg);
    Dwarf_Addr pc = 0;
    bool activation = false;
    if (!dwfl_frame_pc(frame, &pc, &activation)) return DWARF_CB_ABORT;
    // A return address points after the call: look up the call itself.
    Dwarf_Addr lookup = activation ? pc : pc - 1;
    Dwfl_Module* mod = dwfl_addrmodule(w->dwfl, lookup);
    std::string text;
    if (!mod) {
      text = fmt::format("{:#x}", pc);
    } else {
      const char* mainfile = nullptr;
      const char* name = dwfl_module_info(mod, nullptr, nullptr, nullptr, nullptr, nullptr, &mainfile, nullptr);
      GElf_Off off = 0;
      GElf_Sym sym;
      const char* symbol = dwfl_module_addrinfo(mod, lookup, &off, &sym, nullptr, nullptr, nullptr);
      std::string module = name ? name : (mainfile ? mainfile : "?");
      if (symbol) {
        // Versioned names (__libc_start_main@@GLIBC_2.34) print plain, as nm -D does without --with-symbol-versions.
        std::string_view plain(symbol);
        plain = plain.substr(0, plain.find('@'));
        std::string shown = elf::detail::qualified_name(plain);
        if (shown.empty()) shown = plain;
        text = fmt::format("{}+{:#x} ({})", shown, off + (pc - lookup), module);
      } else {
        text = fmt::format("{:#x} ({})", pc, module);
      }
    }
    w->out->push_back(std::move(text));
    return w->out->size() >= kMaxFrames ? DWARF_CB_ABORT : DWARF_CB_OK;
  };
  // Its result says why the walk ended (end of the stack, no CFI and no
  // frame pointer, unreadable memory, our limit): the frames found so far
  // are the answer in every case.
  (void)dwfl_getthread_frames(s.dwfl, t.tid, on_frame, &walk);
}

}  // namespace uptrace::core
