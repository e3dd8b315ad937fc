#pragma once
// The one interface between the arch-neutral core and an instruction set, in
// the spirit of the kernel's arch_uprobe_* hooks: the strategy for a probe is
// decided once, at analysis (`Isa::analyze`), and the resulting ProbePlan does
// the per-hit work. Every ISA is compiled on every host, so nothing here may
// depend on the host's <sys/user.h>: register files are plain word arrays in
// the layout of the ISA's NT_PRSTATUS regset.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/condition.h"
#include "common/memory.h"

namespace uptrace::arch {

enum class IsaId : uint8_t { X86_64, AArch64, Ppc64le, Riscv64 };

// A thread's general registers: the NT_PRSTATUS regset as the kernel lays it
// out for the ISA (x86-64: struct user_regs_struct, 27 words).
struct Regs {
  static constexpr size_t kMaxWords = 48;  // ppc64 pt_regs is the largest
  std::array<uint64_t, kMaxWords> words{};
};

// One decoded instruction.
struct Instruction {
  RuntimeAddr address;
  uint8_t length = 0;
  std::array<uint8_t, 16> bytes{};
  std::string text;  // Capstone style: "mov rax, qword ptr [rip + 0x2ee1]"

  std::span<const uint8_t> code() const { return {bytes.data(), length}; }
};

// How a probe's displaced instruction is executed (DESIGN.md, "Ways to execute").
enum class ExecMode : uint8_t {
  Trap,     // trap, step the copy in a slot, fix up: 2 stops per hit
  Boost,    // trap, run the copy + a jump back: 1 stop
  Emulate,  // trap, the tracer computes the effect: 1 stop
  Jump,     // branch to a trampoline: 0 stops
};
std::string_view to_string(ExecMode mode);

// What the user asked for with --mode.
enum class ModeRequest : uint8_t { Auto, Trap, Boost, Emulate, Jump };
std::string_view to_string(ModeRequest mode);
std::optional<ModeRequest> parse_mode_request(std::string_view text);

// The state of one thread's out-of-line step, from ProbePlan::begin_hit to
// finish_step / abort_step (gdb's displaced-step closure). Plain data so the
// core can keep one per thread without allocating.
struct StepState {
  std::array<uint64_t, 2> saved{};
};

enum class HitAction : uint8_t {
  Resume,      // regs are final (emulated, or pc moved into a boost slot): continue
  SingleStep,  // pc is in the slot: step the copy (StepMechanism), then finish_step
};

// How the core runs a displaced copy to its end ("step the copy"), and a
// borrowed syscall instruction too. An ISA picks one; every plan that steps
// is built for it (SiteContext::step).
enum class StepMechanism : uint8_t {
  // PTRACE_SINGLESTEP: the step ends with a step trap right after the copy.
  HardwareStep,
  // The copy is followed by the ISA's breakpoint in the slot (and every
  // in-slot landing point of a copied branch gets one), and the thread is
  // continued to it, as the kernel's riscv uprobes do (no single-step for
  // user space there). The core then hands finish_step the registers with
  // pc at that trap, which is where a hardware step would have left it. A
  // copy that leaves the slot (ret, an indirect jump) can never get there:
  // plans must emulate it or refuse. A free-running (boost) plan must say
  // how a thread leaves its slot without a single step
  // (ProbePlan::slot_exit).
  TrailingTrap,
};
std::string_view to_string(StepMechanism mechanism);

// A register or register part that a fetch argument can name.
struct RegisterRef {
  uint16_t word = 0;     // index into Regs::words
  uint8_t bits = 64;     // 64, 32, 16 or 8
  uint8_t shift = 0;     // 8 for x86's ah/bh/ch/dh
};

// One register in the psABI's DWARF numbering.
struct DwarfRegister {
  uint16_t number = 0;
  RegisterRef reg;
};

// Where the N-th integer argument lives at a function's entry.
struct ArgLocation {
  std::optional<RegisterRef> reg;  // in a register, or
  int64_t stack_offset = 0;        // at [sp + stack_offset] when reg is empty
};

// How a thread found inside a free-running slot (boost, jump) leaves it
// where the core cannot single-step it out (StepMechanism::TrailingTrap),
// without running the probed instruction twice or skipping it, and so
// without a hit lost or counted twice (ProbePlan::slot_exit).
struct SlotExit {
  enum class Kind : uint8_t {
    // pc = `pc`, an address in the original code where the thread's state
    // is the same, and the thread runs on from there.
    Original,
    // The thread has not run the copy yet: pc = `pc`, the slot address of
    // a stepped form of the copy (the copy, then a trap), which the core
    // runs to its end trap as any step (ProbePlan::is_step_end_trap,
    // signals held meanwhile); finish_step then moves pc where the copy
    // would have gone.
    Step,
  };
  Kind kind = Kind::Original;
  uint64_t pc = 0;

  bool operator==(const SlotExit&) const = default;
};

// A jump written somewhere other than the site: where a branch into the
// site's second instruction leaves room for only a short jmp there, that
// jmp goes to this one, in the padding right before the function, which
// goes on to the trampoline (ProbePlan::relay).
struct Relay {
  RuntimeAddr at;
  std::vector<uint8_t> bytes;
};

// A per-probe plan, decided once. All addresses are runtime addresses; the
// slot address is fixed when the plan is made (plans may encode it).
class ProbePlan {
 public:
  virtual ~ProbePlan() = default;
  virtual ExecMode mode() const = 0;
  // One phrase for --explain: what will be done and why (e.g. "single-step
  // out of line; rip-relative operand re-encoded for the slot").
  virtual std::string describe() const = 0;
  // The bytes to place in the probe's slot (empty when no slot is needed).
  virtual std::vector<uint8_t> slot_code() const = 0;
  // A thread stopped on this probe's trap; regs has pc == probe address.
  // Emulate or redirect into the slot.
  virtual HitAction begin_hit(Regs& regs, MemoryAccess& mem, StepState& state) const = 0;
  // The single step in the slot completed normally; regs are as after it.
  // Move pc to where in-place execution would have left it, undo scratch
  // register use, fix return addresses.
  virtual void finish_step(Regs& regs, MemoryAccess& mem, const StepState& state) const = 0;
  // The step did not complete (a signal or fault with pc at the slot start):
  // put the thread back at the probe address as if it had never trapped.
  virtual void abort_step(Regs& regs, const StepState& state) const = 0;
  // Boost and jump code runs without the tracer watching, so a thread can be
  // found (by a signal, or at detach) with pc anywhere in the slot. The
  // address in the original code where the thread's state is the same, when
  // there is one; otherwise nullopt, and the core steps the thread on until
  // it leaves the slot.
  virtual std::optional<uint64_t> original_pc(uint64_t /*pc_in_slot*/) const { return std::nullopt; }
  // The same question where the core cannot step (StepMechanism::
  // TrailingTrap), asked while the probe is armed: a thread at the slot's
  // start has been counted, but its copy has not run, so sending it back to
  // the site (its original_pc) would hit the probe again. Plans that run
  // free under TrailingTrap answer for every pc a thread can be found at
  // (and, for a thread that has not run the copy, put a stepped form of it
  // in the slot); nullopt where there is no way out without a single step.
  virtual std::optional<SlotExit> slot_exit(uint64_t pc_in_slot) const {
    (void)pc_in_slot;
    return std::nullopt;
  }
  // Whether pc (in the slot) is a displaced instruction's copy in a stepped
  // form (SlotExit::Step) where the thread is not as at the site, so
  // original_pc has no answer: riscv64's jump, at the second of the two
  // instructions it displaces after a 2-byte site. A fault there is the
  // copy's (run on, it would fault again), and abort_step puts the thread
  // where it is delivered.
  virtual bool is_displaced_copy(uint64_t pc) const {
    (void)pc;
    return false;
  }
  // What is written over the site: empty for the ISA's breakpoint (a jump
  // plan writes its branch to the trampoline instead).
  virtual std::vector<uint8_t> site_patch() const { return {}; }
  // A second patch the site's needs, in bytes nothing runs but through the
  // site's own (padding before the function): written before the site's and
  // restored with it. A thread found at its address is on its way from the
  // site to the slot, as if in the slot: the core treats it so (original_pc
  // answers for it).
  virtual std::optional<Relay> relay() const { return std::nullopt; }
  // Whether the trap at `trap` (in the slot) ends a step of the copy
  // (StepMechanism::TrailingTrap).
  virtual bool is_step_end_trap(RuntimeAddr trap) const {
    (void)trap;
    return false;
  }
  // Whether the trap at `trap` (in the slot) is where a jump trampoline's
  // writer found the ring full (common/ring_layout.h): the core makes room
  // and lets the thread run on past the trap, to try again.
  virtual bool is_ring_full_trap(RuntimeAddr trap) const {
    (void)trap;
    return false;
  }
  // Whether pc (in the slot) is right after one of the slot's system call
  // instructions (a jump trampoline's gettid). A thread single-stepped over
  // one, out of the slot, stops with the kernel's report of the step from
  // its syscall exit path (Isa::is_syscall_step_trap: TRAP_BRKPT on x86-64),
  // not with the CPU's step trap; the core must take that as its own step,
  // not as a SIGTRAP the program was sent.
  virtual bool follows_syscall(uint64_t pc) const {
    (void)pc;
    return false;
  }
};

// Everything known about a probe site before it is armed.
struct SiteAnalysis {
  Instruction insn;
  std::unique_ptr<ProbePlan> plan;  // null when refused
  std::string refusal;              // why it cannot be probed, when plan is null
  // For each faster mode that was not chosen: the mode and why not.
  std::vector<std::pair<ExecMode, std::string>> declined;
};

// A probe's condition (`if COND`) as a jump trampoline evaluates it before
// it records the hit, so a hit that is filtered out writes nothing:
// comparisons with constants of values the registers at the site give
// alone (core/filter.h makes it; conditions that read memory stay in
// uptrace, at a stop).
struct JumpFilter {
  enum class Kind : uint8_t { Compare, All, Any, Not };
  Kind kind = Kind::Compare;
  // Compare: the register (or the part of one) as arch::read_register reads
  // it, or, without one, the site's address; then cut to `bytes` and
  // extended per `is_signed`, as the fetch TYPE says; compared as signed or
  // unsigned 64-bit integers. `op` is never Glob.
  std::optional<RegisterRef> reg;
  uint8_t bytes = 8;
  bool is_signed = true;
  CompareOp op = CompareOp::Eq;
  uint64_t literal = 0;
  std::vector<JumpFilter> children;  // All, Any: two or more; Not: one
};

// What one probe at a site records in jump mode: register words (indexes
// into Regs::words, as they are at the site) in this order, when its
// filter holds (no filter: always).
struct JumpRecordSpec {
  uint32_t probe = 0;
  std::vector<uint16_t> words;
  std::optional<JumpFilter> filter;
};

// What the core offers a jump plan: the shared ring (common/ring_layout.h)
// mapped in the target, and the records to write on each hit.
struct JumpContext {
  RuntimeAddr ring;
  uint64_t capacity = 0;  // records, a power of two
  std::vector<JumpRecordSpec> records;
};

// Code at an address: a function, or a part of one placed apart from it
// (GCC's FUNC.cold), which branches back into it.
struct CodePart {
  RuntimeAddr start;
  std::span<const uint8_t> code;
};

// The probed module's bytes as its file has them, by runtime address: what
// a jump analysis reads beyond the function's code (a switch's jump table in
// .rodata, whose entries are offsets the dynamic loader never relocates).
class ImageReader {
 public:
  virtual ~ImageReader() = default;
  // False when [addr, addr + out.size()) is not all in the file's loaded bytes
  // of one read-only segment (a writable one may hold other bytes at run time).
  virtual bool read(RuntimeAddr addr, std::span<uint8_t> out) const = 0;
  // Whether some address the dynamic loader writes into the module's data
  // (a relocation's value: where a position-independent module keeps every
  // code address it stores, function pointers and label tables alike) lies
  // in (lo, hi); nullopt when that is not known (a module that is not
  // position-independent stores them with no relocation).
  virtual std::optional<bool> pointer_into(RuntimeAddr lo, RuntimeAddr hi) const {
    (void)lo;
    (void)hi;
    return std::nullopt;
  }
  // Whether code in [lo, hi) may be entered by the unwinder at a landing
  // pad (an .eh_frame entry covering it has a language-specific data area),
  // an entry no branch shows; nullopt when not known.
  virtual std::optional<bool> landing_pads_in(RuntimeAddr lo, RuntimeAddr hi) const {
    (void)lo;
    (void)hi;
    return std::nullopt;
  }
  // Whether an unwind entry (an .eh_frame or .debug_frame FDE) starts in
  // (lo, hi), a few bytes: a place something may enter that no branch shows
  // (riscv64's jump over a compressed site); nullopt when not known.
  virtual std::optional<bool> frame_starts_in(RuntimeAddr lo, RuntimeAddr hi) const {
    (void)lo;
    (void)hi;
    return std::nullopt;
  }
  // Every function of the module (each symbol with a size, once), for what
  // only the whole module shows: hand-written assembly branches into other
  // functions' middles (glibc's __mempcpy_*_unaligned_erms ends in a jmp to
  // the second instruction of __memmove_*_unaligned_erms). Empty when not
  // known.
  virtual std::vector<CodePart> functions() const { return {}; }
  // Whether functions() lists every function (the module has a .symtab, or
  // its debug file does): with only .dynsym, a local function's branches
  // into another function's middle are not seen.
  virtual bool functions_complete() const { return false; }
  // What an ISA derives once from functions() (every direct branch target,
  // sorted), kept here so it lives as long as the sites that share this
  // reader.
  mutable std::shared_ptr<const void> derived;
};

// The code around a probe site, as the analysis needs it.
struct SiteContext {
  RuntimeAddr function_start;
  std::span<const uint8_t> function_code;  // the whole function, from its start
  RuntimeAddr site;                        // an instruction boundary inside it
  RuntimeAddr slot;                        // where the slot will live
  ModeRequest request = ModeRequest::Auto;
  StepMechanism step = StepMechanism::HardwareStep;  // how a stepped copy is run to its end
  // Null when the core cannot offer jump mode here, and then why not.
  const JumpContext* jump = nullptr;
  std::string jump_unavailable = "jump mode is not available";
  // The bytes after the function's end that neither a symbol nor an unwind
  // entry claims (alignment padding, at most 16): a jump at a function's last
  // ret or jmp may overwrite them when they are padding. Empty when unknown.
  std::span<const uint8_t> after_function = {};
  // The same before the function's start (padding after the function before
  // it, at most 64 bytes), ending at function_start. Empty when unknown.
  std::span<const uint8_t> before_function = {};
  // The function's other parts (FUNC.cold), every one of them.
  std::span<const CodePart> other_parts = {};
  // Null when the module's bytes are not known (jump tables then cannot be
  // read, and an indirect jump refuses).
  const ImageReader* image = nullptr;
};

// Where a function's return address is while the thread stands on the
// function's first instruction (before that instruction runs).
struct ReturnAddressSlot {
  enum class Kind : uint8_t { Memory, Register };
  Kind kind = Kind::Memory;
  RuntimeAddr addr;   // Memory: the stack word that holds it (x86-64: sp)
  RegisterRef reg;    // Register: the link register (aarch64: x30)
  // Register: where every prologue saves it relative to the entry sp, when
  // the ABI fixes that place: ppc64 ELFv2's LR save doubleword, entry sp +
  // 16, in the caller's frame (so a function tail-called at the same sp
  // saves it there too). Empty where each prologue picks a place in its own
  // frame, below the entry sp (aarch64). Tells detach which hijacked frame
  // a copy of the trampoline found on the stack belongs to.
  std::optional<int64_t> abi_save_offset;
};

enum class Syscall : uint8_t { Mmap, Munmap, Mprotect, Madvise, MemfdCreate, Getpid, Ftruncate, Close };

class Isa {
 public:
  virtual ~Isa() = default;
  virtual IsaId id() const = 0;
  virtual std::string_view name() const = 0;       // "x86_64"
  virtual uint16_t elf_machine() const = 0;         // EM_X86_64
  // Whether an ELF file of elf_machine() with this class, byte order and
  // e_flags is one this ISA runs, or why not, as a phrase that follows
  // "FILE is" ("a big-endian ppc64 file"): e_machine alone does not say
  // (EM_X86_64 also covers x32, EM_PPC64 big-endian ELFv1, EM_RISCV
  // 32-bit and soft-float ABIs).
  virtual std::string elf_refusal(uint8_t elf_class, uint8_t elf_data, uint32_t flags) const = 0;

  // --- decoding ---------------------------------------------------------
  // Decode linearly from `start` until `code` ends or an undecodable byte;
  // the result lists instruction boundaries in order.
  virtual std::vector<Instruction> decode(std::span<const uint8_t> code, RuntimeAddr start) const = 0;
  // Whether `insn` is a trap of any variant (a breakpoint someone else set,
  // or the program's own).
  virtual bool is_trap(const Instruction& insn) const = 0;
  // A return from the function (x86-64 ret, aarch64 ret/retaa/retab), for
  // hints that name where a function returns. Not pure, so an ISA added in
  // parallel builds (and names none) until it opts in.
  virtual bool is_return(const Instruction& insn) const {
    (void)insn;
    return false;
  }
  // Decide how to execute the instruction at ctx.site out of line, or refuse.
  virtual SiteAnalysis analyze(const SiteContext& ctx) const = 0;
  // Bytes needed for one probe's slot (upper bound).
  virtual size_t slot_size() const = 0;
  // How far a slot may be from its site for the plans that branch between
  // them directly (riscv64's jal: 1 MiB). Scratch mappings are placed
  // within it where a free range is, else anywhere within 1 GiB, and the
  // plans that need the reach are refused there.
  virtual uint64_t slot_reach() const { return uint64_t{1} << 30; }

  // --- traps --------------------------------------------------------------
  virtual std::span<const uint8_t> breakpoint() const = 0;
  // For a SIGTRAP stop with this pc and si_code: the address of the software
  // breakpoint instruction that raised it, if that is what happened.
  virtual std::optional<RuntimeAddr> breakpoint_address(uint64_t pc, int si_code) const = 0;
  // Whether a SIGTRAP with this si_code ends a PTRACE_SINGLESTEP.
  virtual bool is_step_trap(int si_code) const = 0;
  // Whether a SIGTRAP with this si_code ends a PTRACE_SINGLESTEP over the
  // syscall instruction (syscall injection; the caller also checks that pc
  // is right after it). The kernel reports that step from the syscall exit
  // path through user_single_step_report(): TRAP_BRKPT on x86, which
  // defines its own, but SI_USER (0) where the generic one is used, as on
  // arm64. Only asked when syscall_step_mechanism() is HardwareStep.
  virtual bool is_syscall_step_trap(int si_code) const = 0;
  // How this ISA's copies are run to their end: HardwareStep where ptrace
  // can single-step (x86-64, aarch64, ppc64le), TrailingTrap where it
  // cannot (riscv64: PTRACE_SINGLESTEP fails with EIO).
  virtual StepMechanism step_mechanism() const = 0;
  // How a borrowed syscall instruction (syscall injection) is run to its
  // end when step_mechanism() is HardwareStep. A single step over a syscall
  // instruction is not one the CPU traces: the kernel has to report it from
  // its syscall exit path, and where it does not, the step ends only after
  // the instruction that follows, which is the program's own code. Such an
  // ISA says TrailingTrap: the core writes the breakpoint right after the
  // syscall instruction and continues the thread to it, as it does for
  // every copy under StepMechanism::TrailingTrap (ppc64le: sc is not traced,
  // and Linux 6.1 reports the step after the next instruction).
  virtual StepMechanism syscall_step_mechanism() const = 0;

  // --- registers ----------------------------------------------------------
  virtual size_t regs_size() const = 0;  // bytes of the NT_PRSTATUS regset
  virtual uint64_t pc(const Regs& r) const = 0;
  virtual void set_pc(Regs& r, uint64_t pc) const = 0;
  virtual uint64_t sp(const Regs& r) const = 0;
  virtual std::optional<RegisterRef> register_by_name(std::string_view name) const = 0;
  virtual std::vector<std::string> register_names() const = 0;  // for hints
  // The word of Regs that holds the stack pointer.
  uint16_t sp_word() const;
  // The thread pointer (x86-64: fs base) a jump trampoline records to name
  // its thread; 0 when the ISA has none, jump mode does not use it, or it is
  // not in NT_PRSTATUS (thread_pointer_regset).
  virtual uint64_t thread_pointer(const Regs& r) const = 0;
  // The regset (an NT_* type) holding the thread pointer as its first word,
  // where NT_PRSTATUS does not hold it (aarch64: NT_ARM_TLS, tpidr_el0).
  virtual std::optional<unsigned> thread_pointer_regset() const { return std::nullopt; }
  // Whether a jump trampoline, told to name its thread by its thread pointer
  // (ring::kSelfPointer), records the thread pointer register itself
  // (aarch64's tpidr_el0, riscv64's tp, ppc64le's r13) rather than the word it points to
  // (x86-64: glibc's self pointer at fs:[0], which the core checks points
  // to itself).
  virtual bool jump_records_thread_pointer() const { return false; }
  virtual ArgLocation argument(unsigned n) const = 0;             // 1-based
  // Where Go's register ABI (Go 1.17+) passes integer arguments, as a list of
  // names ("rax, rbx, ..."), when it is not where argument() reads them;
  // empty when it is (aarch64: x0-x7 both) or not known.
  virtual std::string go_argument_registers() const { return {}; }
  virtual RegisterRef return_value() const = 0;
  // The registers of NT_PRSTATUS that DWARF can name (location expressions,
  // CFI), as (DWARF number, register) pairs: the psABI's numbering is not
  // the regset's order and has gaps (ppc64's LR is 65). Registers outside
  // the regset (vector, float) are not listed: a variable held in one
  // cannot be fetched, and binding says so.
  virtual std::span<const DwarfRegister> dwarf_register_map() const = 0;
  // The register DWARF numbers `dwarf_regno`, from the map.
  std::optional<RegisterRef> dwarf_register(unsigned dwarf_regno) const;

  // --- return probes (FUNC%return) ---------------------------------------
  // How the return address is named at function entry, for --explain
  // ("[rsp]", "x30"); empty when this ISA cannot have its returns hijacked,
  // and then %return is refused.
  virtual std::string_view return_address_name() const = 0;
  // Where the return address is at function entry, given the registers
  // there. Only called when return_address_name() is not empty.
  // - Memory (x86-64): the slot is where the return address stays for the
  //   function's whole life; the core replaces it there, and restores it on
  //   detach when it still holds the trampoline.
  // - Register (aarch64): the core replaces it in the register, and the
  //   function's prologue saves it to the stack. Where, the resolver learns
  //   from the function's call-frame information (ProbeSite::return_spill);
  //   until then, and for a function that never saves it, the register is
  //   its place.
  virtual ReturnAddressSlot return_address_slot(const Regs& r) const = 0;
  // The stack pointer the caller has right after the function entered with
  // stack pointer `entry_sp` returned (x86-64: entry_sp + 8, the return
  // address popped; aarch64: entry_sp). Pairs a trap at the trampoline with
  // the entry it belongs to.
  virtual uint64_t sp_after_return(uint64_t entry_sp) const = 0;
  // Why the return address of the function made of `code` (its decoded
  // instructions, from its start) cannot be replaced, as a phrase that
  // follows the function's name ("signs its return address ..."), or empty
  // when it can (aarch64: the function signs it with pointer authentication, and a
  // signed trampoline address could not be turned back into a signed real
  // one when uptrace detaches).
  virtual std::string return_hijack_refusal(std::span<const Instruction> code) const = 0;

  // --- syscall injection --------------------------------------------------
  virtual std::span<const uint8_t> syscall_instruction() const = 0;
  virtual long syscall_number(Syscall s) const = 0;
  // Set up regs to run syscall `nr` with `args` at `insn_addr`, and make sure
  // the kernel will not treat the thread as restarting an interrupted call.
  virtual void prepare_syscall(Regs& r, RuntimeAddr insn_addr, long nr, std::span<const uint64_t> args) const = 0;
  virtual int64_t syscall_result(const Regs& r) const = 0;
  // True where the kernel decides a system call's restart before the thread
  // stops for the tracer (arm64, riscv: pc already rewound to the call, its
  // first argument back) and turns it into EINTR only if a handler is
  // delivered in that same stop. Once the thread has run borrowed code the
  // decision is gone: put back on the call, it must enter it before any
  // handler runs (Thread::mask_until_syscall). x86-64 and ppc64 decide after
  // the stop, from registers the core puts back.
  virtual bool decides_restart_before_stop() const { return false; }
};

uint64_t read_register(const Regs& regs, RegisterRef ref);

// The part of Isa::elf_refusal every ISA uptrace knows shares: a 64-bit,
// little-endian file; empty when it is one.
std::string elf64_lsb_refusal(const Isa& isa, uint8_t elf_class, uint8_t elf_data);

// The ISA of the machine uptrace runs on.
const Isa& native_isa();
// Every ISA uptrace knows, for tests and for reading foreign ELF files.
std::span<const Isa* const> all_isas();
const Isa* isa_for_elf_machine(uint16_t e_machine);

}  // namespace uptrace::arch
