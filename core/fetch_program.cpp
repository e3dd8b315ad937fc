#include "core/fetch_program.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/error.h"
#include "common/variable_path.h"
#include "core/dwarf_expr.h"

namespace uptrace::core {

namespace {
constexpr size_t kMaxString = 256;  // SPEC.md: a string is read up to a NUL or 256 bytes
}

struct FetchProgram::Variable {
  dwarf::VariablePlan plan;
  bool string_at_place = false;  // a char array: the string is where the variable is, not behind it
  ValueShow show = ValueShow::Number;
  std::string explain;
};

struct FetchProgram::Node {
  enum class Kind { Register, StackArg, StackPointer, ProgramCounter, Deref, Constant } kind;
  arch::RegisterRef reg{};
  int64_t offset = 0;  // StackArg: from sp; Deref: added to the inner value
  uint64_t value = 0;  // Constant
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
        } else if constexpr (std::is_same_v<T, fetch::Constant>) {
          n->kind = Node::Kind::Constant;
          n->value = v.value;
        } else if constexpr (std::is_same_v<T, fetch::Deref>) {
          n->kind = Node::Kind::Deref;
          n->offset = v.offset;
          n->inner = bind(isa, *v.inner, probe_text, is_return);
        } else {
          // Variables are bound by the constructor as a whole argument; C's
          // own syntax (req->len, arr[2], *p) replaces +OFF() around them.
          throw Error(ErrorKind::Usage,
                      fmt::format("bad fetch argument in probe '{}': a DWARF variable or $params cannot be inside "
                                  "+OFF(...)",
                                  probe_text),
                      "write the access in C: req->len, arr[2], *p");
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
    case Node::Kind::Constant:
      out = n.value;
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
bool read_c_string(MemoryAccess& mem, uint64_t ptr, std::string& out, size_t limit = kMaxString) {
  constexpr uint64_t kPage = 4096;
  uint8_t buf[kMaxString];
  size_t got = 0;
  limit = std::min(limit, kMaxString);
  while (got < limit) {
    size_t chunk = std::min<size_t>(limit - got, kPage - ((ptr + got) % kPage));
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

// The FetchType a DWARF-typed value is read as, and how its integer shows;
// nullopt for an integer of a width no FetchType has.
std::optional<FetchType> fetch_type_of(const dwarf::ValueType& t, ValueShow& show) {
  show = ValueShow::Number;
  switch (t.kind) {
    case dwarf::ValueKind::Signed:
    case dwarf::ValueKind::Unsigned:
    case dwarf::ValueKind::Bool:
    case dwarf::ValueKind::Enum: {
      bool is_signed = t.kind == dwarf::ValueKind::Signed || (t.kind == dwarf::ValueKind::Enum && t.enum_signed);
      if (t.kind == dwarf::ValueKind::Bool) show = ValueShow::Bool;
      if (t.kind == dwarf::ValueKind::Enum) show = ValueShow::Enum;
      return integer_fetch_type(t.size, is_signed);
    }
    case dwarf::ValueKind::Pointer: return FetchType::X64;
    case dwarf::ValueKind::CharPointer:
    case dwarf::ValueKind::CharArray: return FetchType::String;
  }
  return std::nullopt;
}

// Shows an extended integer as DWARF says: an enumerator by its name.
void apply_show(FetchedValue& v, ValueShow show, const dwarf::ValueType& type) {
  v.show = show;
  if (show != ValueShow::Enum) return;
  for (const auto& [value, name] : type.enumerators) {
    if (value == v.bits) {
      v.text = name;
      break;
    }
  }
}

// "%rax" for a register reference, "?" when the ISA has no name for it.
std::string register_ref_name(const arch::Isa& isa, const arch::RegisterRef& ref) {
  for (const std::string& name : isa.register_names()) {
    auto r = isa.register_by_name(name);
    if (r && r->word == ref.word && r->bits == ref.bits && r->shift == ref.shift) return "%" + name;
  }
  return "?";
}

// The stopped thread's registers as DWARF numbers them.
class DwarfRegisterFile final : public DwarfRegisters {
 public:
  DwarfRegisterFile(const arch::Isa& isa, const arch::Regs& regs) : isa_(isa), regs_(regs) {}
  std::optional<uint64_t> read(unsigned regno) const override {
    auto ref = isa_.dwarf_register(regno);
    if (!ref) return std::nullopt;
    return arch::read_register(regs_, *ref);
  }

 private:
  const arch::Isa& isa_;
  const arch::Regs& regs_;
};

std::string register_name(const arch::Isa& isa, unsigned regno) {
  auto ref = isa.dwarf_register(regno);
  return ref ? register_ref_name(isa, *ref) : "?";
}

// Where a variable is while its access path is followed.
struct Place {
  bool in_memory = false;
  uint64_t addr = 0;
  ValueBytes bytes;
};

bool read_place(const Place& p, MemoryAccess& mem, uint8_t* out, size_t n) {
  if (p.in_memory) return mem.read(RuntimeAddr(p.addr), {out, n});
  if (n > p.bytes.size) return false;
  std::memcpy(out, p.bytes.data.data(), n);
  return true;
}

// Follows the steps from the place the location gave; false on a fault.
bool follow(const std::vector<dwarf::Step>& steps, MemoryAccess& mem, Place& p) {
  for (const dwarf::Step& s : steps) {
    if (s.kind == dwarf::Step::Kind::Deref) {
      uint64_t ptr = 0;
      if (!read_place(p, mem, reinterpret_cast<uint8_t*>(&ptr), sizeof ptr)) return false;
      p.in_memory = true;
      p.addr = ptr;
    } else if (p.in_memory) {
      p.addr += static_cast<uint64_t>(s.offset);
    } else {
      // A member of a value held in registers: the bytes from its offset.
      if (s.offset < 0 || static_cast<uint64_t>(s.offset) > p.bytes.size) return false;
      auto off = static_cast<uint8_t>(s.offset);
      std::memmove(p.bytes.data.data(), p.bytes.data.data() + off, p.bytes.size - off);
      p.bytes.size = static_cast<uint8_t>(p.bytes.size - off);
    }
  }
  return true;
}

void evaluate_variable(const arch::Isa& isa, const FetchProgram::Variable& var, FetchType type,
                       const arch::Regs& regs, MemoryAccess& mem, FetchedValue& v) {
  const dwarf::VariablePlan& plan = var.plan;
  if (plan.optimized_out) {
    v.optimized_out = true;
    return;
  }
  DwarfRegisterFile file(isa, regs);
  DwarfContext ctx{file, mem, &plan.frame_base, &plan.cfa, plan.load_bias};
  DwarfPlace at = evaluate_location(plan.location, ctx);
  Place p;
  switch (at.kind) {
    case DwarfPlace::Kind::Memory:
      p.in_memory = true;
      p.addr = at.addr;
      break;
    case DwarfPlace::Kind::Bytes:
      p.bytes = at.bytes;
      break;
    case DwarfPlace::Kind::OptimizedOut:
      v.optimized_out = true;
      return;
    case DwarfPlace::Kind::Fault:
    case DwarfPlace::Kind::Unsupported:
      v.fault = true;
      return;
  }
  if (!follow(plan.steps, mem, p)) {
    v.fault = true;
    return;
  }
  if (type == FetchType::String) {
    if (var.string_at_place) {
      size_t limit = plan.type.kind == dwarf::ValueKind::CharArray ? plan.type.size : kMaxString;
      if (p.in_memory) {
        v.fault = !read_c_string(mem, p.addr, v.text, limit);
      } else {
        const char* b = reinterpret_cast<const char*>(p.bytes.data.data());
        size_t n = std::min<size_t>(limit, p.bytes.size);
        v.text.assign(b, static_cast<size_t>(std::find(b, b + n, '\0') - b));
      }
      return;
    }
    uint64_t ptr = 0;
    if (!read_place(p, mem, reinterpret_cast<uint8_t*>(&ptr), sizeof ptr)) {
      v.fault = true;
      return;
    }
    v.fault = !read_c_string(mem, ptr, v.text);
    return;
  }
  uint64_t word = 0;
  if (!read_place(p, mem, reinterpret_cast<uint8_t*>(&word), fetch_type_bytes(type))) {
    v.fault = true;
    return;
  }
  v.bits = extend(word, type);
  apply_show(v, var.show, plan.type);
}

}  // namespace

FetchProgram::FetchProgram(const arch::Isa& isa, const std::vector<FetchArg>& args, const std::string& probe_text,
                           bool is_return_probe, const VariableSource* variables)
    : isa_(&isa) {
  for (const FetchArg& a : args) {
    if (const auto* v = std::get_if<fetch::Variable>(&a.expr.node)) {
      std::optional<VariablePath> path = parse_variable_path(v->path);
      if (!path) throw_usage("bad fetch argument in probe '{}': '{}' is not a variable, member or element", probe_text, v->path);
      if (variables == nullptr) continue;
      try {
        bind_variable(isa, variables->variable(*path, a.name), a.type, false);
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("probe '{}': {}", probe_text, e.what()), e.hint());
      }
      continue;
    }
    if (std::holds_alternative<fetch::Params>(a.expr.node)) {
      if (variables == nullptr) continue;
      try {
        for (dwarf::VariablePlan& plan : variables->params()) bind_variable(isa, std::move(plan), std::nullopt, true);
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("probe '{}': {}", probe_text, e.what()), e.hint());
      }
      continue;
    }
    Op op;
    op.root = bind(isa, a.expr, probe_text, is_return_probe);
    op.type = a.type.value_or(FetchType::S64);
    op.name = a.name;
    // An explicit :TYPE is what the user wants read, whatever DWARF says.
    if (variables != nullptr && !a.type && std::holds_alternative<fetch::ReturnValue>(a.expr.node)) {
      try {
        if (std::optional<dwarf::ValueType> t = variables->return_type()) type_return_value(isa, op, std::move(*t));
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("probe '{}': {}", probe_text, e.what()), e.hint());
      }
    }
    ops_.push_back(std::move(op));
  }
}

void FetchProgram::type_return_value(const arch::Isa& isa, Op& op, dwarf::ValueType type) {
  std::optional<FetchType> t = fetch_type_of(type, op.show);
  if (!t)
    throw Error(ErrorKind::Runtime, fmt::format("cannot fetch '$retval': {} is {} bytes wide", type.name, type.size),
                "read the raw return register with $retval:x64");
  op.type = *t;
  op.explain = fmt::format("{}: {}, {} (the return value)", op.name, type.name, register_ref_name(isa, isa.return_value()));
  op.dwarf_type = std::make_shared<const dwarf::ValueType>(std::move(type));
}

void FetchProgram::bind_variable(const arch::Isa& isa, dwarf::VariablePlan plan, std::optional<FetchType> override_type,
                                 bool lenient) {
  auto var = std::make_shared<Variable>();
  // What the evaluator would need but cannot do is found now, once: an
  // explicit argument fails, a $params member shows as optimized out with
  // the reason in --explain.
  if (!plan.optimized_out) {
    std::vector<const dwarf::Expr*> used = {&plan.location};
    if (uses_frame_base(plan.location)) used.push_back(&plan.frame_base);
    if (uses_cfa(plan.location) || uses_cfa(plan.frame_base)) used.push_back(&plan.cfa);
    std::optional<std::string> problem;
    for (const dwarf::Expr* e : used) {
      if (!problem) problem = unsupported_op(*e);
      for (unsigned r : registers_used(*e)) {
        if (!problem && !isa.dwarf_register(r))
          problem = fmt::format("it is in DWARF register {}, which uptrace cannot read on {}", r, isa.name());
      }
    }
    if (uses_cfa(plan.location) || uses_cfa(plan.frame_base)) {
      if (!problem && plan.cfa.empty()) problem = "its frame address needs call frame information, which is missing here";
    }
    if (problem) {
      if (!lenient) throw_runtime("cannot fetch '{}': {}", plan.name, *problem);
      plan.optimized_out = *problem;
    }
  }

  std::optional<FetchType> typed = fetch_type_of(plan.type, var->show);
  if (!typed && !override_type)
    throw_runtime("cannot fetch '{}': {} is {} bytes wide", plan.name, plan.type.name, plan.type.size);
  FetchType type = typed.value_or(FetchType::X64);
  if (override_type) {
    type = *override_type;
    var->show = ValueShow::Number;
  }
  var->string_at_place = type == FetchType::String && plan.type.kind == dwarf::ValueKind::CharArray;

  auto reg_name = [&](unsigned r) { return register_name(isa, r); };
  std::string where;
  if (plan.optimized_out) {
    where = fmt::format("(optimized out: {})", *plan.optimized_out);
  } else {
    where = describe(plan.location, reg_name);
    if (!plan.origin.empty()) where += fmt::format(" ({})", plan.origin);
    if (uses_frame_base(plan.location)) where += fmt::format("; frame base {}", describe(plan.frame_base, reg_name));
    if (uses_cfa(plan.location) || uses_cfa(plan.frame_base))
      where += fmt::format("; CFA {}", describe(plan.cfa, reg_name));
    for (const dwarf::Step& s : plan.steps)
      where += s.kind == dwarf::Step::Kind::Deref ? std::string("; deref") : fmt::format("; {:+}", s.offset);
  }
  var->explain = fmt::format("{}: {}{}, {}", plan.name, plan.type.name,
                             override_type ? fmt::format(" as {}", to_string(*override_type)) : std::string(), where);
  std::string name = plan.name;
  var->plan = std::move(plan);
  Op op;
  op.var = std::move(var);
  op.type = type;
  op.name = std::move(name);
  ops_.push_back(std::move(op));
}

bool FetchProgram::reads_frame_slots() const {
  return std::any_of(ops_.begin(), ops_.end(), [](const Op& op) {
    return op.var && !op.var->plan.optimized_out && op.var->plan.origin.empty() && uses_frame_base(op.var->plan.location);
  });
}

std::vector<std::string> FetchProgram::names() const {
  std::vector<std::string> out;
  for (const Op& op : ops_) out.push_back(op.name);
  return out;
}

std::vector<std::string> FetchProgram::describe_variables() const {
  std::vector<std::string> out;
  for (const Op& op : ops_) {
    if (op.var) out.push_back(op.var->explain);
    else if (!op.explain.empty()) out.push_back(op.explain);
  }
  return out;
}

void FetchProgram::evaluate(const arch::Regs& regs, uint64_t probe_pc, MemoryAccess& mem,
                            std::vector<FetchedValue>& out) const {
  out.resize(ops_.size());
  for (size_t i = 0; i < ops_.size(); ++i) {
    const Op& op = ops_[i];
    FetchedValue& v = out[i];
    v.type = op.type;
    v.fault = false;
    v.optimized_out = false;
    v.show = ValueShow::Number;
    v.text.clear();
    v.bits = 0;
    if (op.var) {
      evaluate_variable(*isa_, *op.var, op.type, regs, mem, v);
      continue;
    }
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
    if (op.dwarf_type) apply_show(v, op.show, *op.dwarf_type);
  }
}

FetchProgram::Captures FetchProgram::register_captures() const {
  Captures c;
  auto need = [&](uint16_t word) {
    if (std::find(c.words.begin(), c.words.end(), word) == c.words.end()) c.words.push_back(word);
  };
  for (const Op& op : ops_) {
    if (!op.root) {
      c.why_not = "a DWARF variable is located and read by uptrace at a stop";
      return c;
    }
    const Node& n = *op.root;
    if (op.type == FetchType::String) {
      c.why_not = "a :string argument reads the target's memory, which a trampoline cannot do safely";
      return c;
    }
    switch (n.kind) {
      case Node::Kind::Register: need(n.reg.word); break;
      case Node::Kind::StackPointer: need(isa_->sp_word()); break;
      case Node::Kind::ProgramCounter:
      case Node::Kind::Constant: break;
      case Node::Kind::StackArg:
      case Node::Kind::Deref:
        c.why_not = "a fetch argument reads the target's memory, which a trampoline cannot do safely";
        return c;
    }
  }
  return c;
}

std::optional<FetchProgram::RegisterSource> FetchProgram::register_source(size_t i) const {
  const Op& op = ops_.at(i);
  if (!op.root || op.type == FetchType::String) return std::nullopt;
  switch (op.root->kind) {
    case Node::Kind::Register: return RegisterSource{op.root->reg, op.type};
    case Node::Kind::StackPointer: return RegisterSource{arch::RegisterRef{isa_->sp_word(), 64, 0}, op.type};
    case Node::Kind::ProgramCounter: return RegisterSource{std::nullopt, op.type};
    // A USDT constant has no register to compare in a trampoline; the
    // condition is then evaluated at a stop.
    case Node::Kind::Constant:
    case Node::Kind::StackArg:
    case Node::Kind::Deref: return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace uptrace::core
