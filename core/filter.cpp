#include "core/filter.h"

#include <fnmatch.h>

#include <fmt/format.h>

#include "common/error.h"

namespace uptrace::core {

struct Filter::Node {
  Condition::Kind kind = Condition::Kind::Compare;
  std::vector<Node> children;
  // Compare: the value is arg_values[index] (from_args) or the filter's own
  // operand `index`; unresolved only when validating without DWARF.
  bool from_args = false;
  bool resolved = true;
  size_t index = 0;
  CompareOp op = CompareOp::Eq;
  CondLiteral literal;
  FetchType type = FetchType::S64;
  std::optional<FetchProgram::RegisterSource> source;  // for a trampoline
  std::string why_not;                                 // when there is no source
};

namespace {

using Node = Filter::Node;

// The operand as the user wrote it, for messages.
std::string operand_text(const CondOperand& o) { return o.arg_name ? *o.arg_name : o.expr.name; }

class Binder {
 public:
  Binder(const FetchProgram& args, bool validating) : names_(args.names()), validating_(validating) {}

  std::vector<FetchArg> own_args;

  Node bind(const Condition& c) {
    Node n;
    n.kind = c.kind;
    for (const Condition& child : c.children) n.children.push_back(bind(child));
    if (c.kind != Condition::Kind::Compare) return n;
    n.op = c.op;
    n.literal = c.literal;
    if (c.operand.arg_name) {
      n.from_args = true;
      size_t i = 0;
      while (i < names_.size() && names_[i] != *c.operand.arg_name) ++i;
      if (i == names_.size()) {
        // Only a DWARF argument can be missing, and only while validating,
        // when FetchProgram leaves those out.
        if (!validating_) throw_runtime("internal error: the condition names '{}', which the probe does not fetch", *c.operand.arg_name);
        n.resolved = false;
        return n;
      }
      n.index = i;
      return n;
    }
    if (std::holds_alternative<fetch::Variable>(c.operand.expr.expr.node) && validating_) {
      own_args.push_back(c.operand.expr);  // checked for syntax by FetchProgram, then left out
      n.resolved = false;
      return n;
    }
    n.index = own_count_++;
    own_args.push_back(c.operand.expr);
    return n;
  }

 private:
  std::vector<std::string> names_;
  bool validating_;
  size_t own_count_ = 0;
};

// What only binding can tell: the type of a DWARF-typed operand. Also sets
// what a trampoline needs of each comparison.
void finish(Node& n, const Condition& c, const FetchProgram& args, const FetchProgram& own, const std::string& probe_text) {
  for (size_t i = 0; i < n.children.size(); ++i) finish(n.children[i], c.children[i], args, own, probe_text);
  if (n.kind != Condition::Kind::Compare) return;
  const std::string text = operand_text(c.operand);
  if (!n.resolved) {
    n.why_not = "a condition reads a DWARF variable, which uptrace locates and reads at a stop";
    return;
  }
  const FetchProgram& from = n.from_args ? args : own;
  n.type = from.type(n.index);
  const bool is_string = n.type == FetchType::String;
  if (is_string != n.literal.is_string) {
    throw_usage_hint(
        kConditionHint, "bad condition in probe '{}' at column {}: '{}' is {}", probe_text, c.position + 1, text,
        is_string ? std::string("a string: compare it with a \"string\"")
                  : fmt::format("an integer ({}), not a string (with :string it is the string it points to)",
                                to_string(n.type)));
  }
  n.source = from.register_source(n.index);
  if (n.source) return;
  if (is_string)
    n.why_not = fmt::format("the condition compares the string '{}', which a trampoline cannot read safely", text);
  else if (from.is_dwarf(n.index))
    n.why_not = "a condition reads a DWARF variable, which uptrace locates and reads at a stop";
  else
    n.why_not = fmt::format("the condition reads '{}' from the target's memory, which a trampoline cannot do safely", text);
}

bool holds(const Node& n, std::span<const FetchedValue> arg_values, std::span<const FetchedValue> own_values) {
  switch (n.kind) {
    case Condition::Kind::All:
      for (const Node& c : n.children)
        if (!holds(c, arg_values, own_values)) return false;
      return true;
    case Condition::Kind::Any:
      for (const Node& c : n.children)
        if (holds(c, arg_values, own_values)) return true;
      return false;
    case Condition::Kind::Not: return !holds(n.children.front(), arg_values, own_values);
    case Condition::Kind::Compare: break;
  }
  const std::span<const FetchedValue> values = n.from_args ? arg_values : own_values;
  if (!n.resolved || n.index >= values.size()) return false;
  const FetchedValue& v = values[n.index];
  if (v.fault || v.optimized_out) return false;
  if (n.literal.is_string) {
    if (v.type != FetchType::String) return false;
    switch (n.op) {
      case CompareOp::Eq: return v.text == n.literal.text;
      case CompareOp::Ne: return v.text != n.literal.text;
      // A string read from the target has no NUL inside; the pattern's
      // first NUL (an escape) ends it, as in C.
      case CompareOp::Glob: return ::fnmatch(n.literal.text.c_str(), v.text.c_str(), 0) == 0;
      default: return false;
    }
  }
  return compare_integers(n.op, v.bits, n.literal.bits, fetch_type_is_signed(v.type));
}

// The trampoline's form, or the first reason it has none.
std::optional<arch::JumpFilter> compile(const Node& n, std::string& why_not) {
  arch::JumpFilter f;
  switch (n.kind) {
    case Condition::Kind::All: f.kind = arch::JumpFilter::Kind::All; break;
    case Condition::Kind::Any: f.kind = arch::JumpFilter::Kind::Any; break;
    case Condition::Kind::Not: f.kind = arch::JumpFilter::Kind::Not; break;
    case Condition::Kind::Compare: f.kind = arch::JumpFilter::Kind::Compare; break;
  }
  for (const Node& c : n.children) {
    std::optional<arch::JumpFilter> child = compile(c, why_not);
    if (!child) return std::nullopt;
    f.children.push_back(std::move(*child));
  }
  if (n.kind != Condition::Kind::Compare) return f;
  if (!n.source) {
    why_not = n.why_not;
    return std::nullopt;
  }
  f.reg = n.source->reg;
  f.bytes = static_cast<uint8_t>(fetch_type_bytes(n.source->type));
  f.is_signed = fetch_type_is_signed(n.source->type);
  f.op = n.op;
  f.literal = n.literal.bits;
  return f;
}

}  // namespace

Filter::Filter(const arch::Isa& isa, const Condition& condition, const FetchProgram& args, const std::string& probe_text,
               bool is_return_probe, const VariableSource* variables) {
  Binder binder(args, variables == nullptr);
  auto root = std::make_shared<Node>(binder.bind(condition));
  own_ = FetchProgram(isa, binder.own_args, probe_text, is_return_probe, variables);
  finish(*root, condition, args, own_, probe_text);
  root_ = std::move(root);
}

bool Filter::keep(std::span<const FetchedValue> arg_values, const arch::Regs& regs, uint64_t pc,
                  MemoryAccess& mem) const {
  if (!root_) return true;
  if (!own_.empty()) own_.evaluate(regs, pc, mem, own_values_);
  return holds(*root_, arg_values, own_values_);
}

Filter::ForTrampoline Filter::for_trampoline() const {
  ForTrampoline out;
  if (!root_) return out;
  out.filter = compile(*root_, out.why_not);
  return out;
}

}  // namespace uptrace::core
