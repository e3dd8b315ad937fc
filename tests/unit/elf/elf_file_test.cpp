#include <elf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "common/error.h"
#include "elf/elf_file.h"
#include "fixture_support.h"

using uptrace::Error;
using uptrace::ErrorKind;
using uptrace::FileAddr;
using uptrace::FileOffset;
using uptrace::elf::ElfFile;
using uptrace::elf::Function;

namespace {

const Function& only(const ElfFile& elf, std::string_view name) {
  auto found = elf.find_function(name);
  INFO("function " << name << " in " << elf.path());
  REQUIRE(found.size() == 1);
  return *found.front();
}

std::set<std::string> names_of(const std::vector<const Function*>& fs) {
  std::set<std::string> out;
  for (auto* f : fs) out.insert(f->name);
  return out;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Runtime);
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("functions are exactly the defined FUNC and IFUNC symbols readelf lists", "[elf]") {
  for (const char* name : {"prog_pie", "prog_nopie", "libelffix.so", "libelffix_stripped.so", "libelffix_asm.so",
                           "libelffix_inline.so"}) {
    std::string path = elftest::fixture(name);
    INFO(path);
    auto elf = ElfFile::open(path);

    // (name, value) -> {size, in .symtab, global}, merged over both tables.
    struct Expect {
      uint64_t size = 0;
      bool in_symtab = false, global = false;
    };
    std::map<std::pair<std::string, uint64_t>, Expect> expected;
    for (const auto& r : elftest::readelf_symbols(path)) {
      if ((r.type != "FUNC" && r.type != "IFUNC") || r.ndx == "UND") continue;
      Expect& e = expected[{r.name, r.value}];
      e.size = std::max(e.size, r.size);
      e.in_symtab = e.in_symtab || r.table == ".symtab";
      e.global = e.global || r.bind != "LOCAL";
    }
    REQUIRE(!expected.empty());

    std::map<std::pair<std::string, uint64_t>, const Function*> got;
    for (const Function& f : elf->functions()) {
      CHECK(got.emplace(std::make_pair(f.name, f.addr.value), &f).second);  // no duplicates
      CHECK(f.entry == f.addr);
      CHECK(f.size > 0);
    }
    std::set<std::pair<std::string, uint64_t>> want_keys, got_keys;
    for (auto& [k, v] : expected) want_keys.insert(k);
    for (auto& [k, v] : got) got_keys.insert(k);
    CHECK(got_keys == want_keys);

    for (auto& [key, e] : expected) {
      auto it = got.find(key);
      if (it == got.end()) continue;
      INFO(key.first);
      if (e.size != 0) CHECK(it->second->size == e.size);
      CHECK(it->second->from_dynsym == !e.in_symtab);
      CHECK(it->second->is_global == e.global);
    }
    CHECK(std::is_sorted(elf->functions().begin(), elf->functions().end(),
                         [](const Function& a, const Function& b) { return a.addr < b.addr; }));
  }
}

TEST_CASE("assembly functions without .size run to the next function or the end of their section", "[elf]") {
  auto elf = ElfFile::open(elftest::fixture("libelffix_asm.so"));
  const Function& sized = only(*elf, "asm_sized");
  const Function& nosize = only(*elf, "asm_nosize");
  const Function& next = only(*elf, "asm_next");
  const Function& tail = only(*elf, "asm_tail");
  CHECK(sized.size == 16);
  CHECK(nosize.addr == sized.addr + 16);
  CHECK(nosize.size == 24);
  CHECK(next.addr == nosize.addr + 24);
  CHECK(next.size == 8);
  CHECK(tail.size == 12);  // .asmtail holds 12 bytes
  CHECK(tail.is_global);

  const Function& ifunc = only(*elf, "asm_ifunc");
  CHECK(ifunc.size == 4);
  const Function& local = only(*elf, "asm_local");
  CHECK_FALSE(local.is_global);
  CHECK_FALSE(local.from_dynsym);

  // Aliases: both names, one address.
  const Function& alias = only(*elf, "asm_next_alias");
  CHECK(alias.addr == next.addr);
  CHECK(alias.size == 8);

  REQUIRE(elf->function_containing(nosize.addr + 23) != nullptr);
  CHECK(elf->function_containing(nosize.addr + 23)->name == "asm_nosize");
  REQUIRE(elf->function_containing(nosize.addr + 24) != nullptr);
  CHECK(elf->function_containing(nosize.addr + 24)->name == "asm_next");  // preferred over the alias
  CHECK(elf->function_containing(sized.addr) == &sized);
  CHECK(elf->function_containing(tail.addr + 11) == &tail);
  CHECK(elf->function_containing(tail.addr + 12) == nullptr);
  CHECK(elf->function_containing(FileAddr(0)) == nullptr);

  CHECK_FALSE(elf->has_line_info());
  CHECK(elf->build_id().empty());  // linked with --build-id=none
}

TEST_CASE("read returns the bytes of the file", "[elf]") {
  auto elf = ElfFile::open(elftest::fixture("libelffix_asm.so"));
  const Function& sized = only(*elf, "asm_sized");
  std::vector<uint8_t> want = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
                               0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01};
  CHECK(elf->read(sized.addr, 16) == want);
  CHECK(elf->read(sized.addr + 4, 2) == std::vector<uint8_t>{0x55, 0x66});

  // Past the end of the file-backed part of the last segment, and nowhere.
  const auto& last = elf->load_segments().back();
  std::string msg = error_of([&] { elf->read(last.vaddr + last.file_size - 2, 4); });
  CHECK(msg.find(elf->path()) != std::string::npos);
  CHECK(msg.find("not inside the file-backed part") != std::string::npos);
  msg = error_of([&] { elf->read(FileAddr(0x7000000000), 1); });
  CHECK(msg == "cannot read 1 byte at 0x7000000000 of " + elf->path() +
                   ": not inside the file-backed part of one loadable segment");
}

TEST_CASE("PIE, non-PIE and shared objects", "[elf]") {
  auto pie = ElfFile::open(elftest::fixture("prog_pie"));
  auto nopie = ElfFile::open(elftest::fixture("prog_nopie"));
  auto lib = ElfFile::open(elftest::fixture("libelffix.so"));
  auto self = ElfFile::open("/proc/self/exe");
  CHECK(pie->is_pie_or_shared());
  CHECK(lib->is_pie_or_shared());
  CHECK_FALSE(nopie->is_pie_or_shared());
  CHECK(pie->machine() == self->machine());
#if defined(__x86_64__)
  CHECK(pie->machine() == EM_X86_64);
#elif defined(__aarch64__)
  CHECK(pie->machine() == EM_AARCH64);
#endif
  // A non-PIE executable is linked at a fixed non-zero address, a PIE at 0.
  CHECK(pie->load_segments().front().vaddr == FileAddr(0));
  CHECK(nopie->load_segments().front().vaddr != FileAddr(0));
  CHECK(only(*nopie, "parse_request").addr > FileAddr(0x10000));
  CHECK(pie->has_symtab());
  CHECK(lib->has_symtab());
}

TEST_CASE("load segments, to_offset and to_addr agree with readelf -l", "[elf]") {
  for (const char* name : {"prog_pie", "prog_nopie", "libelffix.so"}) {
    std::string path = elftest::fixture(name);
    INFO(path);
    auto elf = ElfFile::open(path);
    auto rows = elftest::readelf_load_segments(path);
    const auto& segs = elf->load_segments();
    REQUIRE(segs.size() == rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      CHECK(segs[i].vaddr.value == rows[i].vaddr);
      CHECK(segs[i].offset.value == rows[i].offset);
      CHECK(segs[i].file_size == rows[i].filesz);
      CHECK(segs[i].mem_size == rows[i].memsz);
      CHECK(segs[i].executable == (rows[i].flags.find('E') != std::string::npos));
    }
    for (const Function& f : elf->functions()) {
      INFO(f.name);
      auto off = elf->to_offset(f.addr);
      REQUIRE(off);
      auto row = std::find_if(rows.begin(), rows.end(), [&](const elftest::SegmentRow& r) {
        return f.addr.value >= r.vaddr && f.addr.value < r.vaddr + r.filesz;
      });
      REQUIRE(row != rows.end());
      CHECK(off->value == row->offset + (f.addr.value - row->vaddr));
      CHECK(elf->to_addr(*off) == f.addr);
    }
    // .bss (memory beyond the file-backed part) has no file offset.
    auto bss = std::find_if(rows.begin(), rows.end(), [](auto& r) { return r.memsz > r.filesz; });
    REQUIRE(bss != rows.end());
    CHECK_FALSE(elf->to_offset(FileAddr(bss->vaddr + bss->filesz)));
    CHECK_FALSE(elf->to_offset(FileAddr(0x7000000000)));
    CHECK_FALSE(elf->to_addr(FileOffset(0x7000000000)));
  }
}

TEST_CASE("aliases and same-named static functions", "[elf]") {
  auto elf = ElfFile::open(elftest::fixture("prog_pie"));
  const Function& f = only(*elf, "parse_request");
  const Function& alias = only(*elf, "parse_request_alias");
  CHECK(alias.addr == f.addr);
  CHECK(alias.size == f.size);
  CHECK(f.is_global);

  auto dups = elf->find_function("dup_static");
  REQUIRE(dups.size() == 2);
  CHECK(dups[0]->addr < dups[1]->addr);
  CHECK_FALSE(dups[0]->is_global);
  CHECK_FALSE(dups[1]->is_global);
  CHECK(elf->find_function("no_such_function").empty());
  CHECK(elf->find_function("parse_").empty());
}

TEST_CASE("a plain name is the default symbol version, and others carry @VERSION", "[elf]") {
  for (const char* name : {"libelffix_versioned.so", "libelffix_versioned_stripped.so"}) {
    std::string path = elftest::fixture(name);
    INFO(path);
    auto elf = ElfFile::open(path);
    std::map<std::string, uint64_t> nm;  // nm -D spells versions the same way
    std::istringstream in(elftest::run("nm -D --defined-only '" + path + "'"));
    for (std::string addr, type, sym; in >> addr >> type >> sym;) nm[sym] = std::stoull(addr, nullptr, 16);
    REQUIRE(nm.count("versioned@@VER_2"));
    REQUIRE(nm.count("versioned@VER_1"));
    CHECK(only(*elf, "versioned").addr.value == nm["versioned@@VER_2"]);
    CHECK(only(*elf, "versioned@VER_1").addr.value == nm["versioned@VER_1"]);
    CHECK(only(*elf, "plain").addr.value == nm["plain@@VER_1"]);
    CHECK(elf->find_function("versioned@@VER_2").empty());
    CHECK(only(*elf, "versioned").from_dynsym == !elf->has_symtab());
  }
}

TEST_CASE("a compat version is never the name of an address that has another", "[elf]") {
  // The bug: libc's free was reported as cfree@GLIBC_2.2.5, its compat alias
  // whose name sorts first.
  for (const char* name : {"libelffix_versioned.so", "libelffix_versioned_stripped.so"}) {
    auto elf = ElfFile::open(elftest::fixture(name));
    INFO(elf->path());
    const Function& current = only(*elf, "current");
    const Function& compat = only(*elf, "acurrent@VER_2");
    REQUIRE(compat.addr == current.addr);
    CHECK(compat.compat_version);
    CHECK_FALSE(current.compat_version);
    CHECK(elf->function_containing(current.addr)->name == "current");
    for (const char* glob : {"*current", "acurrent*", "current"}) {
      INFO(glob);
      auto entries = elf->match_entries(glob);
      REQUIRE(entries.size() == 1);
      CHECK(entries[0].name == "current");
      REQUIRE(entries[0].functions.size() == 1);
      CHECK(entries[0].functions[0]->addr == current.addr);
      auto aliases = entries[0].aliases[0];
      CHECK(std::count(aliases.begin(), aliases.end(), "acurrent@VER_2") == 1);
      CHECK(std::count(aliases.begin(), aliases.end(), "current") == 0);
    }
    // A compat version alone at its address keeps its name.
    auto old_only = elf->match_entries("versioned@*");
    REQUIRE(old_only.size() == 1);
    CHECK(old_only[0].name == "versioned@VER_1");
  }
}

TEST_CASE("match_functions takes shell globs", "[elf]") {
  auto elf = ElfFile::open(elftest::fixture("prog_pie"));
  using S = std::set<std::string>;
  CHECK(names_of(elf->match_functions("parse_*")) == S{"parse_request", "parse_request_alias", "parse_response"});
  CHECK(names_of(elf->match_functions("parse_re?uest")) == S{"parse_request"});
  CHECK(names_of(elf->match_functions("[pq]arse_res*")) == S{"parse_response"});
  CHECK(names_of(elf->match_functions("*_alias")) == S{"parse_request_alias"});
  CHECK(names_of(elf->match_functions("dup_static")) == S{"dup_static"});
  CHECK(elf->match_functions("dup_static").size() == 2);
  CHECK(elf->match_functions("zz*").empty());
  auto all = elf->match_functions("*");
  CHECK(all.size() == elf->functions().size());
  CHECK(std::is_sorted(all.begin(), all.end(), [](auto* a, auto* b) { return a->addr < b->addr; }));
}

TEST_CASE("similar_names suggests close function names", "[elf]") {
  auto elf = ElfFile::open(elftest::fixture("prog_pie"));
  auto s = elf->similar_names("parse_requst");
  REQUIRE(!s.empty());
  CHECK(s.front() == "parse_request");
  CHECK(std::find(s.begin(), s.end(), "parse_request_alias") == s.end());  // 7 edits away

  s = elf->similar_names("parse_respons");
  REQUIRE(!s.empty());
  CHECK(s.front() == "parse_response");

  s = elf->similar_names("parse_request");  // itself is no suggestion
  CHECK(std::find(s.begin(), s.end(), "parse_request") == s.end());
  CHECK(s.size() <= 3);

  CHECK(elf->similar_names("Parse_Request").front() == "parse_request");  // case counts as an edit
  CHECK(elf->similar_names("completely_unrelated").empty());
  CHECK(elf->similar_names("parse_re", 1).size() <= 1);
  CHECK(elf->similar_names("dup_statics") == std::vector<std::string>{"dup_static"});  // once, not per copy
}

TEST_CASE("a stripped library has only .dynsym, and .eh_frame still bounds its code", "[elf]") {
  auto full = ElfFile::open(elftest::fixture("libelffix.so"));
  auto stripped = ElfFile::open(elftest::fixture("libelffix_stripped.so"));
  CHECK(full->has_symtab());
  CHECK_FALSE(stripped->has_symtab());
  CHECK_FALSE(stripped->has_line_info());
  CHECK(full->has_line_info());

  const Function& exported = only(*stripped, "lib_exported");
  CHECK(exported.from_dynsym);
  CHECK(exported.is_global);
  CHECK(exported.addr == only(*full, "lib_exported").addr);
  CHECK_FALSE(only(*full, "lib_exported").from_dynsym);
  CHECK(stripped->find_function("lib_static").empty());

  const Function& hidden = only(*full, "lib_static");
  CHECK(stripped->function_containing(hidden.addr + 2) == nullptr);
  auto range = stripped->frame_range_containing(hidden.addr + 2);
  REQUIRE(range);
  CHECK(range->first == hidden.addr);
  CHECK(range->second == hidden.addr + hidden.size);
  CHECK(full->frame_range_containing(hidden.addr) == range);
  CHECK(full->frame_range_containing(hidden.addr + hidden.size - 1) == range);
  CHECK(stripped->frame_range_containing(FileAddr(0)) == std::nullopt);

  // The same from a compressed .debug_frame (and no .eh_frame FDE at all).
  auto debug_frame = ElfFile::open(elftest::fixture("libelffix_debugframe.so"));
  const Function& df = only(*debug_frame, "lib_static");
  auto df_range = debug_frame->frame_range_containing(df.addr + 1);
  REQUIRE(df_range);
  CHECK(df_range->first == df.addr);
  CHECK(df_range->second == df.addr + df.size);

  // The same from .eh_frame of a PIE and a non-PIE executable.
  for (const char* name : {"prog_pie", "prog_nopie"}) {
    auto elf = ElfFile::open(elftest::fixture(name));
    const Function& f = only(*elf, "parse_response");
    auto r = elf->frame_range_containing(f.addr + 3);
    REQUIRE(r);
    CHECK(r->first == f.addr);
    CHECK(r->second == f.addr + f.size);
  }
}

TEST_CASE("code with landing pads is known from its .eh_frame entry's LSDA", "[elf]") {
  auto cxx = ElfFile::open(elftest::fixture("libelffix_lambda.so"));
  const Function& with = only(*cxx, "with_cleanup");
  const Function& without = only(*cxx, "without_cleanup");
  CHECK(cxx->may_have_landing_pads(with.addr, with.addr + with.size) == true);
  CHECK(cxx->may_have_landing_pads(with.addr + with.size - 1, with.addr + with.size) == true);
  CHECK(cxx->may_have_landing_pads(without.addr, without.addr + without.size) == false);
  // C code built without -fexceptions has none at all.
  auto c = ElfFile::open(elftest::fixture("libelffix.so"));
  const Function& f = only(*c, "lib_static");
  CHECK(c->may_have_landing_pads(f.addr, f.addr + f.size) == false);
}

TEST_CASE("an .eh_frame that cannot be read to its end says nothing of landing pads", "[elf]") {
  // libelffix_lambda.so's with_cleanup has landing pads; each copy below
  // spoils its .eh_frame in one way, and must answer "not known", never
  // "none" (which would let a jump analysis ignore the unwinder's way in).
  elftest::TempDir dir;
  std::ifstream in(elftest::fixture("libelffix_lambda.so"), std::ios::binary);
  const std::vector<char> original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(original.size() > sizeof(Elf64_Ehdr));
  Elf64_Ehdr eh;
  std::memcpy(&eh, original.data(), sizeof eh);
  Elf64_Shdr names;
  std::memcpy(&names, original.data() + eh.e_shoff + eh.e_shstrndx * sizeof names, sizeof names);
  std::optional<unsigned> eh_frame;
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, original.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
    if (std::string(original.data() + names.sh_offset + sh.sh_name) == ".eh_frame") eh_frame = i;
  }
  REQUIRE(eh_frame);
  auto with_eh_frame = [&](const std::string& name, const std::function<void(std::vector<char>&, Elf64_Shdr&)>& spoil) {
    std::vector<char> bytes = original;
    Elf64_Shdr sh;
    const size_t at = eh.e_shoff + *eh_frame * sizeof sh;
    std::memcpy(&sh, bytes.data() + at, sizeof sh);
    spoil(bytes, sh);
    std::memcpy(bytes.data() + at, &sh, sizeof sh);
    std::string path = dir.path() + "/" + name + ".so";
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return ElfFile::open(path);
  };
  {
    auto intact = with_eh_frame("intact", [](std::vector<char>&, Elf64_Shdr&) {});
    const Function& with = only(*intact, "with_cleanup");
    CHECK(intact->may_have_landing_pads(with.addr, with.addr + with.size) == true);
  }
  // Its bytes not in the file.
  auto nobits = with_eh_frame("nobits", [](std::vector<char>&, Elf64_Shdr& sh) { sh.sh_type = SHT_NOBITS; });
  const Function& f = only(*nobits, "with_cleanup");
  CHECK(nobits->may_have_landing_pads(f.addr, f.addr + f.size) == std::nullopt);
  // A zero terminator in its first entry's length, entries after it: the
  // unwinder's binary search table (.eh_frame_hdr) still finds those.
  auto cut = with_eh_frame("cut", [](std::vector<char>& bytes, Elf64_Shdr& sh) {
    REQUIRE(sh.sh_size > 8);
    std::memset(bytes.data() + sh.sh_offset, 0, 4);
  });
  CHECK(cut->may_have_landing_pads(f.addr, f.addr + f.size) == std::nullopt);
  // Marked compressed (SHF_COMPRESSED, and not loaded, as only a non-alloc
  // section may be) over bytes that do not decompress: their first word,
  // the CIE's length, names no compression type. Taken as they are, they
  // would pass for entries; a section that cannot be inflated says nothing.
  auto compressed = with_eh_frame("compressed", [](std::vector<char>&, Elf64_Shdr& sh) {
    sh.sh_flags = (sh.sh_flags & ~static_cast<Elf64_Xword>(SHF_ALLOC)) | SHF_COMPRESSED;
  });
  CHECK(compressed->may_have_landing_pads(f.addr, f.addr + f.size) == std::nullopt);
  // Only zeros after the terminator: alignment padding, no entry missed.
  auto padded = with_eh_frame("padded", [](std::vector<char>& bytes, Elf64_Shdr& sh) {
    std::memset(bytes.data() + sh.sh_offset, 0, sh.sh_size);
  });
  CHECK(padded->may_have_landing_pads(f.addr, f.addr + f.size) == false);
}

TEST_CASE("ppc64 ELFv2 functions enter at the local entry point", "[elf]") {
  // A copy of the assembly fixture relabelled as ppc64: only the ELF header
  // and the st_other bits the local entry lives in change.
  elftest::TempDir dir;
  auto make = [&](uint32_t e_flags) {
    std::ifstream in(elftest::fixture("libelffix_asm.so"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > sizeof(Elf64_Ehdr));
    REQUIRE(bytes[EI_CLASS] == ELFCLASS64);
    Elf64_Ehdr eh;
    std::memcpy(&eh, bytes.data(), sizeof eh);
    eh.e_machine = EM_PPC64;
    eh.e_flags = e_flags;
    std::memcpy(bytes.data(), &eh, sizeof eh);
    std::map<std::string, uint8_t> other = {
        {"asm_sized", 3 << 5}, {"asm_next", 2 << 5}, {"asm_nosize", 1 << 5}, {"asm_tail", 7 << 5}};
    for (unsigned i = 0; i < eh.e_shnum; ++i) {
      Elf64_Shdr sh;
      std::memcpy(&sh, bytes.data() + eh.e_shoff + i * sizeof sh, sizeof sh);
      if (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) continue;
      Elf64_Shdr str;
      std::memcpy(&str, bytes.data() + eh.e_shoff + sh.sh_link * sizeof str, sizeof str);
      for (uint64_t off = sh.sh_offset; off + sizeof(Elf64_Sym) <= sh.sh_offset + sh.sh_size; off += sizeof(Elf64_Sym)) {
        Elf64_Sym sym;
        std::memcpy(&sym, bytes.data() + off, sizeof sym);
        auto it = other.find(bytes.data() + str.sh_offset + sym.st_name);
        if (it == other.end()) continue;
        sym.st_other = it->second;
        std::memcpy(bytes.data() + off, &sym, sizeof sym);
      }
    }
    std::string path = dir.path() + "/ppc64-" + std::to_string(e_flags) + ".so";
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return ElfFile::open(path);
  };

  auto v2 = make(2);
  CHECK(v2->machine() == EM_PPC64);
  auto entry_offset = [](const ElfFile& elf, const char* name) { return only(elf, name).entry - only(elf, name).addr; };
  CHECK(entry_offset(*v2, "asm_sized") == 8);
  CHECK(entry_offset(*v2, "asm_next") == 4);
  CHECK(entry_offset(*v2, "asm_nosize") == 0);  // 1: no local entry, r2 not preserved
  CHECK(entry_offset(*v2, "asm_tail") == 128);
  CHECK(entry_offset(*v2, "asm_local") == 0);
  CHECK(entry_offset(*v2, "asm_next_alias") == 0);

  auto v1 = make(1);  // ELFv1 has no local entry points
  CHECK(entry_offset(*v1, "asm_sized") == 0);
}

TEST_CASE("build_id is the NT_GNU_BUILD_ID note in hex", "[elf]") {
  for (const char* name : {"prog_pie", "libelffix.so"}) {
    std::string path = elftest::fixture(name);
    std::string notes = elftest::run("readelf -n '" + path + "'");
    auto at = notes.find("Build ID: ");
    REQUIRE(at != std::string::npos);
    std::string want = notes.substr(at + 10, notes.find('\n', at) - at - 10);
    CHECK(ElfFile::open(path)->build_id() == want);
    CHECK(want.size() >= 16);
  }
}

TEST_CASE("open reports what, where and why", "[elf]") {
  CHECK(error_of([] { ElfFile::open("/nonexistent/dir/app"); }) ==
        "cannot open /nonexistent/dir/app: No such file or directory");
  elftest::TempDir dir;
  std::string text = dir.path() + "/notes.txt";
  std::ofstream(text) << "just some text, long enough to hold an ELF header if it were one\n";
  CHECK(error_of([&] { ElfFile::open(text); }) == text + " is not an ELF file");
  std::string empty = dir.path() + "/empty";
  std::ofstream(empty).flush();
  CHECK(error_of([&] { ElfFile::open(empty); }) == empty + " is not an ELF file");
  CHECK(error_of([&] { ElfFile::open(dir.path()); }) == "cannot open " + dir.path() + ": Is a directory");
  std::string obj = elftest::fixture("lib_object.o");
  CHECK(error_of([&] { ElfFile::open(obj); }) == obj + " is a relocatable object file, not an executable or shared library");

  // Read through one path, named by another.
  auto elf = ElfFile::open(elftest::fixture("libelffix.so"), "/usr/lib/libshown.so");
  CHECK(elf->path() == "/usr/lib/libshown.so");
  CHECK(!elf->find_function("lib_exported").empty());
  CHECK(error_of([&] { ElfFile::open("/nonexistent/x", "/shown/x"); }) == "cannot open /shown/x: No such file or directory");
}

TEST_CASE("GCC's cold parts are known by name", "[elf]") {
  using uptrace::elf::is_cold_part_name;
  for (const char* cold : {"f.cold", "f.cold.3", "_ZN4node5StartEiPPc.cold", "f.part.0.cold", "f.isra.0.cold.12"}) {
    INFO(cold);
    CHECK(is_cold_part_name(cold));
  }
  for (const char* entry : {"f", "cold", ".cold", "f.coldx", "f.cold.", "f.cold.x", "f.constprop.0", "hot_or_cold"}) {
    INFO(entry);
    CHECK_FALSE(is_cold_part_name(entry));
  }
}
