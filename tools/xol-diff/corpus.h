#pragma once
// The instruction boundaries of one ELF file: every function (symbols with
// sizes, aliases once) decoded linearly from its start; bytes between
// functions are never looked at.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "elf/elf_file.h"
#include "insn_facts.h"

namespace xol_diff {

struct FunctionCode {
  std::string name;
  uint64_t start = 0;          // file address
  std::vector<uint8_t> bytes;  // the whole function
};

struct Boundary {
  uint64_t addr = 0;       // file address
  uint32_t function = 0;   // index into Corpus::functions
  uint8_t length = 0;      // 0 when unknown
  bool decodable = true;   // false: Capstone cannot decode it
};

struct Corpus {
  std::string path;
  std::unique_ptr<uptrace::elf::ElfFile> elf;
  std::vector<FunctionCode> functions;
  std::vector<Boundary> boundaries;  // sorted by address, each address once
};

// Throws std::exception (with the path) when the file cannot be read.
Corpus load_corpus(const std::string& path, const FactsDecoder& decoder);

}  // namespace xol_diff
