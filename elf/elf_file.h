#pragma once
// One ELF file on disk: its functions (from .symtab and .dynsym), its loadable
// segments, its code bytes, and what its DWARF says about source lines. Knows
// nothing of processes: every address here is a FileAddr.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/address.h"
#include "common/dwarf_plan.h"
#include "elf/sdt_marker.h"

namespace uptrace::elf {

struct Function {
  std::string name;
  FileAddr addr;
  uint64_t size = 0;
  // Where a plain `FUNC` probe goes: addr, or the ppc64 ELFv2 local entry.
  FileAddr entry;
  bool from_dynsym = false;  // found only in .dynsym
  bool is_global = false;
  // A non-default symbol version ("cfree@GLIBC_2.2.5"): kept for programs
  // linked long ago, never the name to show for code that has another.
  bool compat_version = false;
  // GCC's split-off cold code of a function (FUNC.cold, FUNC.cold.N): it
  // runs only on the function's unlikely paths, entered by a jump from the
  // function, so it is never a function's entry.
  bool cold_part = false;
  // STT_GNU_IFUNC: addr is the resolver, which the dynamic loader runs to
  // pick the implementation that calls go to (see GotSlot).
  bool is_ifunc = false;
  // The symbol version it is defined with (.dynsym's verdef name), empty
  // when it has none.
  std::string version;
};

// GCC's name for split-off cold code: "f.cold", "f.cold.3", "_ZN1a1fEv.cold".
bool is_cold_part_name(std::string_view symbol);

// A GOT slot the dynamic loader fills with a function's address, from the
// file's dynamic relocations. This is where a process tells which
// implementation an indirect function's resolver picked.
struct GotSlot {
  enum class Kind : uint8_t {
    Irelative,  // the value the resolver at `addend` returns (R_*_IRELATIVE)
    JumpSlot,   // a call through the PLT to `symbol` (R_*_JUMP_SLOT): lazily bound
    GlobDat,    // the address of `symbol` (R_*_GLOB_DAT, or a pointer in data: R_X86_64_64,
                // R_AARCH64_ABS64 with no addend): bound at load
  };
  Kind kind = Kind::JumpSlot;
  FileAddr slot;
  uint8_t width = 8;         // bytes of the slot
  uint64_t addend = 0;       // Irelative: the resolver's file address
  std::string symbol;        // JumpSlot, GlobDat
  std::string version;       // the version of `symbol` it binds to, empty when none
  std::string type_name;     // "R_X86_64_IRELATIVE", for messages
};

struct LoadSegment {
  FileAddr vaddr;
  FileOffset offset;
  uint64_t file_size = 0;
  uint64_t mem_size = 0;
  bool executable = false;
  bool writable = false;  // PF_W (a RELRO part is writable until relocated)
};

// The segment whose file-backed part holds all of [addr, addr+size); nullptr
// when none does.
const LoadSegment* segment_holding(const std::vector<LoadSegment>& segments, FileAddr addr, uint64_t size);

// A line-table hit for SRCFILE:LINE.
struct LineLocation {
  FileAddr addr;
  std::string file;      // the full path the DWARF names
  unsigned line = 0;
  std::string function;  // innermost (possibly inlined) function, if known
};

// Where a function keeps its return address, from its call-frame
// information (.eh_frame, else .debug_frame), for FUNC%return on an ISA whose
// calls leave the return address in a register (aarch64). Registers are
// DWARF numbers; offsets are from the CFA, which is the same value all
// through the function.
struct ReturnAddressRule {
  bool has_cfi = false;       // an FDE covers the function's entry
  unsigned ra_column = 0;     // the return-address column (aarch64: 30, x30)
  // At the entry, CFA = cfa_register + cfa_offset (when cfa_known).
  bool cfa_known = false;
  unsigned cfa_register = 0;
  int64_t cfa_offset = 0;
  // Saved at CFA + *saved_at from saved_from on (the first CFI row that
  // says so); empty: never saved, it stays in its register.
  std::optional<int64_t> saved_at;
  FileAddr saved_from;
  // The first CFI row that has it in another register (DWARF number), and
  // from where: ppc64's prologue copies LR to r0 (mflr r0) before it stores
  // r0 (std r0,16(r1)), and its CFI says so. The register holds whatever
  // the return address is then, the trampoline too.
  std::optional<unsigned> via_register;
  FileAddr via_from;
  // A rule uptrace cannot follow, described ("saved at two places, CFA-8 and
  // CFA-24"); empty when there is none.
  std::string unsupported;
  // aarch64: DW_CFA_AARCH64_negate_ra_state in its CIE or FDE, i.e. the
  // return address is signed (pointer authentication) somewhere in it.
  bool signed_ra = false;
};

// The ELF header fields that say which ABI a file is for, beyond e_machine
// (EM_PPC64 covers big-endian ELFv1 and little-endian ELFv2 alike).
struct ElfAbi {
  uint8_t elf_class = 0;  // e_ident[EI_CLASS]: ELFCLASS32/64
  uint8_t data = 0;       // e_ident[EI_DATA]: ELFDATA2LSB/MSB
  uint32_t flags = 0;     // e_flags (ppc64: bits 1:0 the ABI version)
};

class ElfFile {
 public:
  // Throws Error (Runtime) naming the path and the reason.
  static std::unique_ptr<ElfFile> open(const std::string& path);
  // As open(), but reads the file through `access_path` (e.g.
  // /proc/PID/root/usr/lib/libc.so.6) while reporting it as `display_path`.
  static std::unique_ptr<ElfFile> open(const std::string& access_path, const std::string& display_path);
  virtual ~ElfFile() = default;

  virtual const std::string& path() const = 0;  // as given to open()
  virtual uint16_t machine() const = 0;         // e_machine
  virtual ElfAbi abi() const = 0;
  virtual bool is_pie_or_shared() const = 0;    // ET_DYN
  virtual std::string build_id() const = 0;     // hex, empty when absent
  // False when stripped to .dynsym and no debug file has the .symtab.
  virtual bool has_symtab() const = 0;
  // The separate debug file its DWARF (or, when it is stripped, its .symtab)
  // comes from (SPEC.md "Debug information"); empty when it has its own.
  virtual std::string debug_file() const = 0;
  // Go code (a .go.buildinfo section, or Go's runtime among the functions):
  // the Go version that built it ("go1.19.8", empty when not known); nullopt
  // when the file is not Go.
  virtual std::optional<std::string> go_version() const = 0;

  // Functions (STT_FUNC / STT_GNU_IFUNC with a size or a known end), sorted by
  // address; aliases at one address are all listed.
  virtual const std::vector<Function>& functions() const = 0;
  // All functions with exactly this symbol name (several for local
  // statics). Else, for a C++ name as written in source: "ns::f" names every
  // overload of it and "ns::f(long)" the one with that parameter list (as
  // c++filt prints it; blanks do not matter), each with its GCC clones
  // (.constprop, .isra) but never a .cold part, which is not an entry.
  virtual std::vector<const Function*> find_function(std::string_view name) const = 0;
  // Functions matching a shell glob (`*`, `?`, `[...]`), as fnmatch(3), by
  // symbol name; a glob with "::" matches C++ names without their parameter
  // lists ("ns::*"), one with "(" their signatures ("ns::f(*)"). .cold parts
  // are left out: they are not entries.
  virtual std::vector<const Function*> match_functions(std::string_view glob) const = 0;
  // The matches of a glob as probes and --list show them: one entry per
  // address, named by the name that matched, or when that is a compat
  // version ("cfree@GLIBC_2.2.5"), by the address's default name; a C++
  // glob makes one entry per function (its clones are more addresses of the
  // entry) named by its qualified name, or by its signature when the glob
  // matches several overloads of that name or is itself a signature
  // ("ns::f(long, *)").
  struct Entry {
    std::string name;
    std::vector<const Function*> functions;  // one per address
    // Parallel to functions: the other symbol names at each address.
    std::vector<std::vector<std::string>> aliases;
  };
  virtual std::vector<Entry> match_entries(std::string_view glob) const = 0;
  // The function whose [addr, addr+size) holds `addr`.
  virtual const Function* function_containing(FileAddr addr) const = 0;
  // When no symbol covers `addr` (stripped): the start and end of the code
  // around it from .eh_frame/.debug_frame, if any FDE covers it.
  virtual std::optional<std::pair<FileAddr, FileAddr>> frame_range_containing(FileAddr addr) const = 0;
  // Up to `max_distance`-close names, best first, for "did you mean".
  virtual std::vector<std::string> similar_names(std::string_view name, size_t max_results = 3) const = 0;

  // The GOT slots the dynamic loader fills with function addresses (see
  // GotSlot), read on first use; empty for an ISA whose relocations uptrace
  // does not know.
  virtual const std::vector<GotSlot>& got_slots() const = 0;

  // Every address the dynamic loader writes into the file's data (the
  // values its dynamic relocations produce: R_X86_64_RELATIVE addends,
  // symbol + addend), sorted: where a position-independent file keeps code
  // addresses that an indirect jump could reach. Nullopt when not known: a
  // file that is not position-independent (its pointers need no
  // relocation), one with packed (RELR) or REL relocations, an ISA whose
  // relocations this does not read.
  virtual const std::optional<std::vector<FileAddr>>& relocated_pointers() const = 0;

  // Whether code in [lo, hi) may be entered by the unwinder at a landing
  // pad: an .eh_frame FDE overlapping it names a language-specific data
  // area. Nullopt when .eh_frame is missing or not wholly readable.
  virtual std::optional<bool> may_have_landing_pads(FileAddr lo, FileAddr hi) const = 0;

  virtual const std::vector<LoadSegment>& load_segments() const = 0;
  // The file's bytes for [addr, addr+size), which must lie in one segment's
  // file-backed part; throws Error otherwise.
  virtual std::vector<uint8_t> read(FileAddr addr, uint64_t size) const = 0;
  // The same, from `segment` (of load_segments(), as segment_holding finds
  // it), for a caller that looked at the segment first.
  virtual std::vector<uint8_t> read_in(const LoadSegment& segment, FileAddr addr, uint64_t size) const = 0;
  virtual std::optional<FileOffset> to_offset(FileAddr addr) const = 0;
  virtual std::optional<FileAddr> to_addr(FileOffset off) const = 0;

  // DWARF: whether there is a line table at all.
  virtual bool has_line_info() const = 0;
  // Addresses for SRCFILE:LINE. `file` matches a DWARF file name exactly or
  // as a trailing path component sequence ("src/a.c" matches "/x/src/a.c").
  // One address per distinct function or inlined copy: the lowest is_stmt
  // address of the line in it. Empty when the line has no code.
  virtual std::vector<LineLocation> find_line(std::string_view file, unsigned line) const = 0;
  // Lines that do have code in the matching files, for hints (nearest first).
  virtual std::vector<unsigned> lines_near(std::string_view file, unsigned line, size_t max_results = 3) const = 0;

  // DWARF variables and parameters visible at `pc`, for fetch arguments by
  // name; DW_OP_addr is relocated by `load_bias`. `where` names the site in
  // messages ("parse+0x4 in /usr/bin/app"). The source is valid while this
  // file is. Throws Error (Runtime) when no DWARF describes the code at pc.
  virtual std::unique_ptr<VariableSource> variables_at(FileAddr pc, uint64_t load_bias,
                                                       const std::string& where) const = 0;
  // Where the prologue of the function at [start, end) ends, as debuggers
  // find it: the second statement in the line table. Unoptimised code stores
  // its arguments into their stack slots only there.
  virtual std::optional<FileAddr> after_prologue(FileAddr start, FileAddr end) const = 0;
  // Where the function at [start, end) keeps its return address (see
  // ReturnAddressRule).
  virtual ReturnAddressRule return_address_rule(FileAddr start, FileAddr end) const = 0;
  // The call sites ("file.c:42") where DWARF says `function` was inlined;
  // from DWARF the module carries itself only (a debug file is not read
  // for it: see the .cpp).
  virtual std::vector<std::string> inlined_copies(std::string_view function) const = 0;

  // Its USDT markers (.note.stapsdt), in the order of their notes.
  virtual const std::vector<SdtMarker>& markers() const = 0;
};

}  // namespace uptrace::elf
