#include "core/fetch_program.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"

namespace uptrace::core {

namespace {
constexpr size_t kMaxString = 256;  // SPEC.md: a string is read up to a NUL or 256 bytes
}

struct FetchProgram::Node {
  enum class Kind { Register, StackArg, StackPointer, ProgramCounter, Deref } kind;
  arch::RegisterRef reg{};
  int64_t offset = 0;  // StackArg: from sp; Deref: added to the inner value
  std::shared_ptr<const Node> inner;
};

namespace {

using Node = FetchProgram::Node;

std::shared_ptr<const Node> bind(const arch::Isa& isa, const FetchExpr& e, const std::string& probe_text,
                                 bool is_return) {
  auto n = std::make_shared<Node>();
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, fetch::Register>) {
          auto ref = isa.register_by_name(v.name);
          if (!ref) {
            std::string names;
            for (const auto& r : isa.register_names()) names += (names.empty() ? "" : " ") + r;
            throw Error(ErrorKind::Usage,
                        fmt::format("bad fetch argument in probe '{}': no register '%{}' on {}", probe_text, v.name,
                                    isa.name()),
                        fmt::format("registers: {}", names));
          }
          n->kind = Node::Kind::Register;
          n->reg = *ref;
        } else if constexpr (std::is_same_v<T, fetch::Argument>) {
          arch::ArgLocation loc = isa.argument(v.index);
          if (loc.reg) {
            n->kind = Node::Kind::Register;
            n->reg = *loc.reg;
          } else {
            n->kind = Node::Kind::StackArg;
            n->offset = loc.stack_offset;
          }
        } else if constexpr (std::is_same_v<T, fetch::ReturnValue>) {
          if (!is_return) throw_usage("bad fetch argument in probe '{}': $retval needs a FUNC%return probe", probe_text);
          n->kind = Node::Kind::Register;
          n->reg = isa.return_value();
        } else if constexpr (std::is_same_v<T, fetch::StackPointer>) {
          n->kind = Node::Kind::StackPointer;
        } else if constexpr (std::is_same_v<T, fetch::ProgramCounter>) {
          n->kind = Node::Kind::ProgramCounter;
        } else if constexpr (std::is_same_v<T, fetch::Deref>) {
          n->kind = Node::Kind::Deref;
          n->offset = v.offset;
          n->inner = bind(isa, *v.inner, probe_text, is_return);
        } else {
          throw Error(ErrorKind::Usage,
                      fmt::format("bad fetch argument in probe '{}': DWARF variables are not supported yet", probe_text),
                      "use registers (%rdi), $argN or +OFF(EXPR)");
        }
      },
      e.node);
  return n;
}

// The address-sized value of a node; false when memory could not be read.
bool eval_word(const arch::Isa& isa, const Node& n, const arch::Regs& regs, uint64_t pc, MemoryAccess& mem,
               uint64_t& out) {
  switch (n.kind) {
    case Node::Kind::Register:
      out = arch::read_register(regs, n.reg);
      return true;
    case Node::Kind::StackPointer:
      out = isa.sp(regs);
      return true;
    case Node::Kind::ProgramCounter:
      out = pc;
      return true;
    case Node::Kind::StackArg: {
      uint64_t v = 0;
      if (!mem.read(RuntimeAddr(isa.sp(regs) + static_cast<uint64_t>(n.offset)), {reinterpret_cast<uint8_t*>(&v), 8}))
        return false;
      out = v;
      return true;
    }
    case Node::Kind::Deref: {
      uint64_t base = 0, v = 0;
      if (!eval_word(isa, *n.inner, regs, pc, mem, base)) return false;
      if (!mem.read(RuntimeAddr(base + static_cast<uint64_t>(n.offset)), {reinterpret_cast<uint8_t*>(&v), 8}))
        return false;
      out = v;
      return true;
    }
  }
  return false;
}

// Up to kMaxString bytes before a NUL. Reads page by page so a string that
// ends just before an unmapped page still reads; false only when not even
// the first byte is readable.
bool read_c_string(MemoryAccess& mem, uint64_t ptr, std::string& out) {
  constexpr uint64_t kPage = 4096;
  uint8_t buf[kMaxString];
  size_t got = 0;
  while (got < kMaxString) {
    size_t chunk = std::min<size_t>(kMaxString - got, kPage - ((ptr + got) % kPage));
    if (!mem.read(RuntimeAddr(ptr + got), {buf + got, chunk})) break;
    const uint8_t* nul = std::find(buf + got, buf + got + chunk, 0);
    got += chunk;
    if (nul != buf + got) {
      out.assign(reinterpret_cast<const char*>(buf), static_cast<size_t>(nul - buf));
      return true;
    }
  }
  out.assign(reinterpret_cast<const char*>(buf), got);
  return got > 0;
}

uint64_t extend(uint64_t bits, FetchType type) {
  unsigned bytes = fetch_type_bytes(type);
  if (bytes == 0 || bytes >= 8) return bits;
  unsigned width = bytes * 8;
  uint64_t mask = (uint64_t{1} << width) - 1;
  bits &= mask;
  if (fetch_type_is_signed(type) && (bits >> (width - 1)) != 0) bits |= ~mask;
  return bits;
}

}  // namespace

FetchProgram::FetchProgram(const arch::Isa& isa, const std::vector<FetchArg>& args, const std::string& probe_text,
                           bool is_return_probe)
    : isa_(&isa) {
  for (const FetchArg& a : args) ops_.push_back({bind(isa, a.expr, probe_text, is_return_probe), a.type.value_or(FetchType::S64)});
}

void FetchProgram::evaluate(const arch::Regs& regs, uint64_t probe_pc, MemoryAccess& mem,
                            std::vector<FetchedValue>& out) const {
  out.resize(ops_.size());
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    FetchedValue& v = out[i];
    v.type = op.type;
    v.fault = false;
    v.text.clear();
    v.bits = 0;
    const Node& root = *op.root;
    // +OFF(EXPR) and stack arguments name memory: its address is what the
    // type reads from, as in perf probe (`+0(%di):string` is the string at
    // %di). A plain register or $argN with :string points to the string.
    bool names_memory = root.kind == Node::Kind::Deref || root.kind == Node::Kind::StackArg;
    uint64_t addr = 0;
    if (root.kind == Node::Kind::Deref) {
      if (!eval_word(*isa_, *root.inner, regs, probe_pc, mem, addr)) {
        v.fault = true;
        continue;
      }
      addr += static_cast<uint64_t>(root.offset);
    } else if (root.kind == Node::Kind::StackArg) {
      addr = isa_->sp(regs) + static_cast<uint64_t>(root.offset);
    } else {
      eval_word(*isa_, root, regs, probe_pc, mem, addr);
    }
    if (op.type == FetchType::String) {
      v.fault = !read_c_string(mem, addr, v.text);
      continue;
    }
    uint64_t word = addr;
    if (names_memory) {
      word = 0;
      if (!mem.read(RuntimeAddr(addr), {reinterpret_cast<uint8_t*>(&word), fetch_type_bytes(op.type)})) {
        v.fault = true;
        continue;
      }
    }
    v.bits = extend(word, op.type);
  }
}

FetchProgram::Captures FetchProgram::register_captures() const {
  Captures c;
  auto need = [&](uint16_t word) {
    if (std::find(c.words.begin(), c.words.end(), word) == c.words.end()) c.words.push_back(word);
  };
  for (const Op& op : ops_) {
    const Node& n = *op.root;
    if (op.type == FetchType::String) {
      c.why_not = "a :string argument reads the target's memory, which a trampoline cannot do safely";
      return c;
    }
    switch (n.kind) {
      case Node::Kind::Register: need(n.reg.word); break;
      case Node::Kind::StackPointer: need(isa_->sp_word()); break;
      case Node::Kind::ProgramCounter: break;
      case Node::Kind::StackArg:
      case Node::Kind::Deref:
        c.why_not = "a fetch argument reads the target's memory, which a trampoline cannot do safely";
        return c;
    }
  }
  return c;
}

}  // namespace uptrace::core
