#pragma once
// Private to elf/: owning handles for libelf/libdw objects and the pieces
// ElfFile and ModuleMap are built from. Nothing outside elf/ includes this.
#include <elfutils/libdw.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/dwarf_plan.h"
#include "elf/elf_file.h"
#include "elf/source_path.h"

namespace uptrace::elf::detail {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct ElfDeleter {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

struct DwarfDeleter {
  void operator()(Dwarf* d) const { dwarf_end(d); }
};
using DwarfPtr = std::unique_ptr<Dwarf, DwarfDeleter>;

// An ELF file opened for reading: the fd must outlive the Elf, hence the pair.
// Member order matters: `elf` is destroyed before `fd`.
struct OpenedElf {
  UniqueFd fd;
  ElfPtr elf;
};

// Opens `access_path` as an ELF executable or shared object; errors name
// `display_path`. Throws Error (Runtime).
OpenedElf open_elf(const std::string& access_path, const std::string& display_path);
// As open_elf(), on a file already open.
OpenedElf open_elf_fd(UniqueFd fd, const std::string& display_path);

// A module's separate debug file (elf/debug_file.cpp), where it was found.
struct DebugFile {
  std::string path;
  OpenedElf opened;
};
// Looks for the debug file of the module read from `access_path` and known
// to the program as `display_path`; nullopt when there is none, or when the
// module has DWARF of its own.
std::optional<DebugFile> find_debug_file(const std::string& access_path, const std::string& display_path);

// PT_LOAD program headers, in file order.
std::vector<LoadSegment> read_load_segments(Elf* elf, const std::string& display_path);

// Version index -> name, from the definitions in SHT_GNU_verdef.
std::unordered_map<uint16_t, std::string> read_version_names(Elf* elf, Elf_Scn* verdef);

// The GOT slots of the file's dynamic relocations (see GotSlot).
std::vector<GotSlot> read_got_slots(Elf* elf, const std::string& display_path);
// ElfFile::relocated_pointers.
// `word_at` reads the file's 8-byte word at an address (a packed relative
// relocation's addend is the word it relocates).
std::optional<std::vector<FileAddr>> read_relocated_pointers(Elf* elf,
                                                            const std::function<std::optional<uint64_t>(FileAddr)>& word_at);

// Go code: the Go version that built it ("go1.19.8"; empty when its
// .go.buildinfo does not say); nullopt for a file that is not Go.
std::optional<std::string> read_go_version(Elf* elf);

// Functions from .symtab and .dynsym, merged, sized and sorted (see Function);
// with `debug` (the module's separate debug file), its .symtab too, where a
// stripped module keeps the names of its local functions.
std::vector<Function> read_functions(Elf* elf, const std::string& display_path, Elf* debug = nullptr);

// Code ranges [start, end) described by the FDEs of .eh_frame and
// .debug_frame, sorted by start, restricted to executable segments.
std::vector<std::pair<FileAddr, FileAddr>> read_frame_ranges(Elf* elf, const std::vector<LoadSegment>& segments);

// Code ranges [start, end) whose .eh_frame FDE may name a language-specific
// data area (LSDA), sorted: the only code the unwinder enters at a landing
// pad. Nullopt when not known: no .eh_frame section, or an entry of it that
// could not be read.
std::optional<std::vector<std::pair<FileAddr, FileAddr>>> read_lsda_ranges(Elf* elf);

// One FDE of .eh_frame or .debug_frame, with the raw instructions of it and
// of its CIE (valid while the Elf is).
struct FdeView {
  FileAddr start, end;
  std::span<const uint8_t> cie_program;  // the CIE's initial instructions
  std::span<const uint8_t> fde_program;  // empty when its layout is not known
  uint8_t fde_encoding = 0;              // DW_EH_PE_* of addresses in it (DW_CFA_set_loc)
  size_t addr_size = 8;
  bool big_endian = false;
  bool lsda = false;  // its CIE gives FDEs an LSDA pointer: the code may have landing pads
};
// Every FDE whose range could be decoded, .eh_frame before .debug_frame
// when both exist in that order, until `visit` returns false.
void for_each_fde(Elf* elf, const std::function<bool(const FdeView&)>& visit);

// The return-address rule of the function at [start, end) (see
// ElfFile::return_address_rule); `dwarf` may be null (no .debug_frame then).
ReturnAddressRule read_return_address_rule(Elf* elf, Dwarf* dwarf, uint16_t machine, FileAddr start, FileAddr end);

// Levenshtein distance between a and b, or any value > limit once the
// distance is known to exceed limit (so callers can prune cheaply).
size_t edit_distance(std::string_view a, std::string_view b, size_t limit);

// The decoded DWARF line tables of all CUs, kept for SRCFILE:LINE lookups.
class LineTable {
 public:
  // Reads every unit's line table; rows outside executable segments (code
  // discarded by the linker) are dropped.
  LineTable(Dwarf* dwarf, const std::vector<LoadSegment>& segments);

  bool empty() const { return rows_.empty(); }
  std::vector<LineLocation> find_line(std::string_view file, unsigned line) const;
  std::vector<unsigned> lines_near(std::string_view file, unsigned line, size_t max_results) const;
  // The lowest statement address in (start, end), if any.
  std::optional<uint64_t> next_statement(uint64_t start, uint64_t end) const;

 private:
  struct Row {
    uint64_t addr;
    uint32_t line;
    uint32_t file;  // index into files_
    uint32_t unit;  // index into scope_dies_
  };
  std::vector<uint32_t> matching_files(std::string_view file) const;

  std::vector<Row> rows_;                // is_stmt rows only
  std::vector<std::string> files_;       // normalized full paths
  std::vector<Dwarf_Die> scope_dies_;    // per unit: the DIE holding its subprograms
};

// The variables DWARF describes at `pc` (elf/dwarf_variables.cpp); `where`
// names the site in messages. Throws Error (Runtime) when no DWARF covers pc.
std::unique_ptr<VariableSource> make_site_variables(Dwarf* dwarf, Elf* elf, FileAddr pc, uint64_t load_bias,
                                                    const std::string& where);

// The USDT markers of .note.stapsdt (elf/sdt_notes.cpp), their arguments
// parsed for ELF machine `machine`.
std::vector<SdtMarker> read_sdt_markers(Elf* elf, uint16_t machine);

// Function name -> the call sites ("file.c:42") where DWARF says it was inlined.
std::map<std::string, std::vector<std::string>, std::less<>> read_inlined_copies(Dwarf* dwarf);

}  // namespace uptrace::elf::detail
