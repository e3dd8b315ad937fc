// Fetch arguments by name: the DWARF scopes at a probe site, the variables
// they make visible, their locations at the site's pc, and the access path
// compiled against their types into a dwarf::VariablePlan.
#include <dwarf.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <set>

#include <fmt/format.h>

#include "common/dwarf_plan.h"
#include "common/error.h"
#include "common/variable_path.h"
#include "elf/elf_internal.h"

namespace uptrace::elf::detail {

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <class T>
using MallocPtr = std::unique_ptr<T, FreeDeleter>;

struct CfiDeleter {
  void operator()(Dwarf_CFI* c) const { dwarf_cfi_end(c); }
};
using CfiPtr = std::unique_ptr<Dwarf_CFI, CfiDeleter>;

constexpr unsigned kAddressSize = 8;  // every ISA uptrace knows is 64-bit

std::string die_name(Dwarf_Die* d) {
  const char* n = dwarf_diename(d);
  return n ? n : "";
}

bool is_function(int tag) { return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine; }

// The DIE an attribute refers to, following DW_AT_abstract_origin and
// DW_AT_specification for the attribute itself.
bool ref_attr(Dwarf_Die* die, unsigned name, Dwarf_Die* out) {
  Dwarf_Attribute a;
  return dwarf_attr_integrate(die, name, &a) != nullptr && dwarf_formref_die(&a, out) != nullptr;
}

bool type_of(Dwarf_Die* die, Dwarf_Die* out) { return ref_attr(die, DW_AT_type, out); }

// Typedefs and qualifiers off; false for "void".
bool peeled_type_of(Dwarf_Die* die, Dwarf_Die* out) {
  Dwarf_Die t;
  return type_of(die, &t) && dwarf_peel_type(&t, out) == 0;
}

Dwarf_Word attr_udata(Dwarf_Die* die, unsigned name, Dwarf_Word fallback) {
  Dwarf_Attribute a;
  Dwarf_Word v = 0;
  if (dwarf_attr_integrate(die, name, &a) == nullptr || dwarf_formudata(&a, &v) != 0) return fallback;
  return v;
}

// The type as C spells it, for messages and --explain.
std::string type_name(Dwarf_Die* type, unsigned depth = 0) {
  if (type == nullptr) return "void";
  if (depth > 16) return "...";
  Dwarf_Die inner;
  bool has_inner = type_of(type, &inner);
  std::string name = die_name(type);
  auto of_inner = [&]() { return has_inner ? type_name(&inner, depth + 1) : std::string("void"); };
  switch (dwarf_tag(type)) {
    case DW_TAG_pointer_type: return of_inner() + " *";
    case DW_TAG_reference_type: return of_inner() + " &";
    case DW_TAG_const_type: return "const " + of_inner();
    case DW_TAG_volatile_type: return "volatile " + of_inner();
    case DW_TAG_restrict_type: return of_inner() + " restrict";
    case DW_TAG_atomic_type: return "_Atomic " + of_inner();
    case DW_TAG_structure_type: return "struct " + (name.empty() ? "<anonymous>" : name);
    case DW_TAG_union_type: return "union " + (name.empty() ? "<anonymous>" : name);
    case DW_TAG_class_type: return "class " + (name.empty() ? "<anonymous>" : name);
    case DW_TAG_enumeration_type: return "enum " + (name.empty() ? "<anonymous>" : name);
    case DW_TAG_subroutine_type: return "function";
    case DW_TAG_array_type: {
      std::string dims;
      Dwarf_Die sub;
      if (dwarf_child(type, &sub) == 0) {
        do {
          if (dwarf_tag(&sub) != DW_TAG_subrange_type) continue;
          Dwarf_Word count = 0;
          if (dwarf_hasattr_integrate(&sub, DW_AT_count)) {
            count = attr_udata(&sub, DW_AT_count, 0);
            dims += fmt::format("[{}]", count);
          } else if (dwarf_hasattr_integrate(&sub, DW_AT_upper_bound)) {
            dims += fmt::format("[{}]", attr_udata(&sub, DW_AT_upper_bound, 0) + 1);
          } else {
            dims += "[]";
          }
        } while (dwarf_siblingof(&sub, &sub) == 0);
      }
      return of_inner() + dims;
    }
    default: return name.empty() ? "?" : name;
  }
}

// The number of elements of a one-dimensional array, when known.
std::optional<uint64_t> array_count(Dwarf_Die* array) {
  Dwarf_Die sub;
  if (dwarf_child(array, &sub) != 0) return std::nullopt;
  do {
    if (dwarf_tag(&sub) != DW_TAG_subrange_type) continue;
    if (dwarf_hasattr_integrate(&sub, DW_AT_count)) return attr_udata(&sub, DW_AT_count, 0);
    if (dwarf_hasattr_integrate(&sub, DW_AT_upper_bound)) return attr_udata(&sub, DW_AT_upper_bound, 0) + 1;
    return std::nullopt;
  } while (dwarf_siblingof(&sub, &sub) == 0);
  return std::nullopt;
}

bool is_char(Dwarf_Die* peeled) {
  if (dwarf_tag(peeled) != DW_TAG_base_type) return false;
  Dwarf_Word enc = attr_udata(peeled, DW_AT_encoding, 0);
  return (enc == DW_ATE_signed_char || enc == DW_ATE_unsigned_char) && dwarf_bytesize(peeled) == 1;
}

dwarf::Expr copy_expr(Dwarf_Attribute* attr, const Dwarf_Op* ops, size_t n) {
  dwarf::Expr out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    dwarf::Op op{ops[i].atom, ops[i].number, ops[i].number2, ops[i].offset, {}};
    Dwarf_Block block;
    if (op.atom == DW_OP_implicit_value && attr != nullptr &&
        dwarf_getlocation_implicit_value(attr, &ops[i], &block) == 0)
      op.block.assign(block.data, block.data + block.length);
    out.push_back(std::move(op));
  }
  return out;
}

enum class LocStatus { Ok, NotHere, Error };

// The expression of a location attribute (an exprloc or a location list)
// that covers pc.
LocStatus location_at(Dwarf_Attribute* attr, Dwarf_Addr pc, dwarf::Expr& out) {
  Dwarf_Op* ops = nullptr;
  size_t len = 0;
  int n = dwarf_getlocation_addr(attr, pc, &ops, &len, 1);
  if (n < 0) return LocStatus::Error;
  if (n == 0) return LocStatus::NotHere;
  out = copy_expr(attr, ops, len);
  return LocStatus::Ok;
}

// Whether one of the address ranges of `die` starts at `pc`, empty ones
// included.
bool range_starts_at(Dwarf_Die* die, Dwarf_Addr pc) {
  Dwarf_Addr base = 0, start = 0, end = 0;
  for (ptrdiff_t off = 0; (off = dwarf_ranges(die, off, &base, &start, &end)) > 0;)
    if (start == pc) return true;
  return false;
}

// GCC gives an inlined copy an empty range at its first instruction and marks
// it with DW_AT_entry_pc: a probe there is in the copy, though no range says
// so. The copy's lexical block gets the same empty range ([pc, pc), the
// block begins at a location view of pc), so it is entered there too: the
// variables declared at the top of an inlined function are in it (seen on
// ppc64le, where such a copy begins at its caller's local entry).
bool inlined_entry_at(Dwarf_Die* scope, Dwarf_Addr pc, Dwarf_Die* out) {
  Dwarf_Die child;
  if (dwarf_child(scope, &child) != 0) return false;
  do {
    int tag = dwarf_tag(&child);
    Dwarf_Addr entry = 0;
    if (tag == DW_TAG_inlined_subroutine && dwarf_entrypc(&child, &entry) == 0 && entry == pc) {
      *out = child;
      return true;
    }
    if (tag == DW_TAG_lexical_block && dwarf_haspc(&child, pc) != 1) {
      if (dwarf_tag(scope) == DW_TAG_inlined_subroutine && range_starts_at(&child, pc)) {
        *out = child;
        return true;
      }
      if (inlined_entry_at(&child, pc, out)) return true;
    }
  } while (dwarf_siblingof(&child, &child) == 0);
  return false;
}

class SiteVariables final : public VariableSource {
 public:
  SiteVariables(Dwarf* dwarf, Elf* elf, Dwarf_Addr pc, uint64_t bias, std::string where)
      : pc_(pc), bias_(bias), where_(std::move(where)) {
    const std::string no_dwarf_hint = "compile with -g, or install the module's debug information (debuginfod, -dbg/-debuginfo package)";
    if (dwarf == nullptr || dwarf_addrdie(dwarf, pc, &cu_) == nullptr) {
      if (dwarf == nullptr || !find_unit(dwarf))
        throw Error(ErrorKind::Runtime, fmt::format("no DWARF debug information for {}", where_), no_dwarf_hint);
    }
    Dwarf_Die* raw = nullptr;
    int n = dwarf_getscopes(&cu_, pc, &raw);
    MallocPtr<Dwarf_Die> at_pc(raw);
    if (n <= 0)
      throw Error(ErrorKind::Runtime, fmt::format("no DWARF describes the function at {}", where_), no_dwarf_hint);
    // dwarf_getscopes continues past an inlined copy into the abstract
    // definition; dwarf_getscopes_die gives the physical nesting, which
    // holds the concrete function and its frame base.
    raw = nullptr;
    int m = dwarf_getscopes_die(&at_pc.get()[0], &raw);
    MallocPtr<Dwarf_Die> chain(raw);
    std::vector<Dwarf_Die> all(chain.get(), chain.get() + std::max(m, 0));
    if (all.empty()) all.assign(at_pc.get(), at_pc.get() + n);
    Dwarf_Die inner;
    while (inlined_entry_at(&all.front(), pc, &inner)) all.insert(all.begin(), inner);

    for (Dwarf_Die& d : all) {
      scopes_.push_back(d);
      if (is_function(dwarf_tag(&d))) {
        function_ = d;
        break;
      }
    }
    // The function the pc is in as code: not an inlined copy that may begin
    // at the same address (a FUNC%return site is FUNC's entry).
    for (Dwarf_Die& d : all) {
      if (dwarf_tag(&d) == DW_TAG_subprogram) {
        subprogram_ = d;
        break;
      }
    }
    for (Dwarf_Die& d : all) {
      Dwarf_Attribute fb;
      if (dwarf_tag(&d) == DW_TAG_subprogram && dwarf_attr(&d, DW_AT_frame_base, &fb) != nullptr) {
        frame_base_ok_ = location_at(&fb, pc, frame_base_) == LocStatus::Ok;
        break;
      }
    }
    // .eh_frame first (always there on x86-64), .debug_frame otherwise.
    CfiPtr eh(dwarf_getcfi_elf(elf));
    for (Dwarf_CFI* cfi : {eh.get(), dwarf_getcfi(dwarf)}) {
      Dwarf_Frame* frame = nullptr;
      if (cfi == nullptr || dwarf_cfi_addrframe(cfi, pc, &frame) != 0) continue;
      MallocPtr<Dwarf_Frame> guard(frame);
      Dwarf_Op* ops = nullptr;
      size_t nops = 0;
      if (dwarf_frame_cfa(frame, &ops, &nops) == 0 && nops > 0) {
        cfa_ = copy_expr(nullptr, ops, nops);
        break;
      }
    }
  }

  dwarf::VariablePlan variable(const VariablePath& path, const std::string& shown) const override {
    std::optional<Dwarf_Die> die;
    for (auto& [name, d] : visible()) {
      if (name == path.base) {
        die = d;
        break;
      }
    }
    if (!die) die = global(path.base);
    if (!die) {
      std::vector<std::string> names;
      for (auto& [name, d] : visible())
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      throw Error(ErrorKind::Runtime, fmt::format("no variable '{}' at {}", path.base, where_),
                  names.empty() ? std::string("no parameters or locals are in scope here")
                                : fmt::format("in scope: {}", list));
    }
    dwarf::VariablePlan plan = locate(*die, shown);
    compile_path(*die, path, plan);
    return plan;
  }

  std::vector<dwarf::VariablePlan> params() const override {
    std::vector<dwarf::VariablePlan> out;
    if (!function_) return out;
    Dwarf_Die f = *function_;
    for (auto& [name, d] : members_of(f, DW_TAG_formal_parameter)) {
      if (name.empty()) continue;
      Dwarf_Die die = d;
      dwarf::VariablePlan plan = locate(die, name);
      VariablePath path;
      path.base = name;
      // A struct or union passed by value has no one value to print: $params
      // leaves it out (the man page says so); naming it explains why.
      Dwarf_Die t;
      if (peeled_type_of(&die, &t)) {
        int tag = dwarf_tag(&t);
        if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type) continue;
      }
      compile_path(die, path, plan, /*params=*/true);
      out.push_back(std::move(plan));
    }
    return out;
  }

  std::optional<dwarf::ValueType> return_type() const override {
    if (!subprogram_) return std::nullopt;
    Dwarf_Die f = *subprogram_;
    std::string function = integrated_name(&f);
    if (function.empty()) function = "the function";
    const std::string raw_hint = "read the raw return register with $retval:x64";
    Dwarf_Die type;
    if (!type_of(&f, &type))
      fail(fmt::format("'$retval': {} returns void", function),
           "drop $retval (the probe reports each return without it), or " + raw_hint);
    Dwarf_Die t;
    if (dwarf_peel_type(&type, &t) != 0) fail("'$retval': its type cannot be read", raw_hint);
    int tag = dwarf_tag(&t);
    if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type)
      fail(fmt::format("'$retval': {} returns a {}, not one value", function, type_name(&type)),
           "fetch its members where the caller stores it (SRCFILE:LINE VAR.FIELD), or " + raw_hint);
    if (tag == DW_TAG_base_type) {
      Dwarf_Word enc = attr_udata(&t, DW_AT_encoding, 0);
      if (enc == DW_ATE_float || enc == DW_ATE_complex_float || enc == DW_ATE_decimal_float)
        fail(fmt::format("'$retval': {} returns a floating-point value ({}), which is in a floating-point "
                         "register uptrace does not read",
                         function, type_name(&type)),
             "fetch it where the caller stores it (SRCFILE:LINE VAR): $retval:TYPE would read the integer return "
             "register, which does not hold it");
    }
    try {
      return classify(&type, "$retval", false);
    } catch (const Error& e) {
      if (!e.hint().empty()) throw;
      throw Error(e.kind(), e.what(), raw_hint);  // e.g. a 16-byte integer
    }
  }

 private:
  // DW_AT_name, also through DW_AT_abstract_origin / DW_AT_specification.
  static std::string integrated_name(Dwarf_Die* d) {
    Dwarf_Attribute a;
    const char* n = dwarf_attr_integrate(d, DW_AT_name, &a) ? dwarf_formstring(&a) : nullptr;
    return n ? n : "";
  }

  bool find_unit(Dwarf* dwarf) {
    Dwarf_Off off = 0, next = 0;
    size_t header = 0;
    while (dwarf_nextcu(dwarf, off, &next, &header, nullptr, nullptr, nullptr) == 0) {
      if (dwarf_offdie(dwarf, off + header, &cu_) != nullptr && dwarf_haspc(&cu_, pc_) == 1) return true;
      off = next;
    }
    return false;
  }

  // The children of `scope` with tag `tag` (or variables and parameters when
  // tag is 0), named, in declaration order. A concrete scope (an inlined copy,
  // the out-of-line copy of an inline function) may omit what the compiler
  // optimised away entirely: those come from its abstract origin, and have no
  // location here.
  std::vector<std::pair<std::string, Dwarf_Die>> members_of(Dwarf_Die scope, int tag) const {
    auto wanted = [&](int t) {
      return tag != 0 ? t == tag : t == DW_TAG_variable || t == DW_TAG_formal_parameter;
    };
    std::vector<std::pair<std::string, Dwarf_Die>> out;
    std::set<Dwarf_Off> concrete_origins;
    std::vector<Dwarf_Die> concrete;
    Dwarf_Die child;
    if (dwarf_child(&scope, &child) == 0) {
      do {
        if (!wanted(dwarf_tag(&child))) continue;
        concrete.push_back(child);
        Dwarf_Die origin;
        Dwarf_Attribute a;
        if (dwarf_attr(&child, DW_AT_abstract_origin, &a) != nullptr && dwarf_formref_die(&a, &origin) != nullptr)
          concrete_origins.insert(dwarf_dieoffset(&origin));
      } while (dwarf_siblingof(&child, &child) == 0);
    }
    Dwarf_Die abstract;
    Dwarf_Attribute oa;
    bool has_origin = dwarf_attr(&scope, DW_AT_abstract_origin, &oa) != nullptr &&
                      dwarf_formref_die(&oa, &abstract) != nullptr;
    if (!has_origin) {
      for (Dwarf_Die& d : concrete) out.emplace_back(die_name(&d), d);
      return out;
    }
    // Declaration order is the abstract one; each concrete DIE takes its
    // origin's place.
    if (dwarf_child(&abstract, &child) == 0) {
      do {
        if (!wanted(dwarf_tag(&child))) continue;
        Dwarf_Off off = dwarf_dieoffset(&child);
        Dwarf_Die use = child;
        for (Dwarf_Die& c : concrete) {
          Dwarf_Die origin;
          Dwarf_Attribute a;
          if (dwarf_attr(&c, DW_AT_abstract_origin, &a) != nullptr && dwarf_formref_die(&a, &origin) != nullptr &&
              dwarf_dieoffset(&origin) == off)
            use = c;
        }
        out.emplace_back(die_name(&child), use);
      } while (dwarf_siblingof(&child, &child) == 0);
    }
    for (Dwarf_Die& c : concrete) {
      Dwarf_Attribute a;
      if (dwarf_attr(&c, DW_AT_abstract_origin, &a) == nullptr) out.emplace_back(die_name(&c), c);
    }
    return out;
  }

  // Innermost first: an inner declaration shadows an outer one.
  std::vector<std::pair<std::string, Dwarf_Die>> visible() const {
    std::vector<std::pair<std::string, Dwarf_Die>> out;
    for (const Dwarf_Die& s : scopes_) {
      auto m = members_of(s, 0);
      out.insert(out.end(), m.begin(), m.end());
    }
    out.erase(std::remove_if(out.begin(), out.end(), [](auto& p) { return p.first.empty(); }), out.end());
    return out;
  }

  // A variable of the compilation unit (a static or global) by name.
  std::optional<Dwarf_Die> global(const std::string& name) const {
    Dwarf_Die cu = cu_;
    Dwarf_Die child;
    if (dwarf_child(&cu, &child) != 0) return std::nullopt;
    do {
      if (dwarf_tag(&child) != DW_TAG_variable || die_name(&child) != name) continue;
      if (dwarf_hasattr(&child, DW_AT_location) || dwarf_hasattr(&child, DW_AT_const_value)) return child;
      // A declaration whose definition is a separate DIE (DW_AT_specification).
    } while (dwarf_siblingof(&child, &child) == 0);
    return std::nullopt;
  }

  dwarf::VariablePlan locate(Dwarf_Die die, const std::string& shown) const {
    dwarf::VariablePlan plan;
    plan.name = shown;
    plan.load_bias = bias_;
    Dwarf_Attribute attr;
    if (dwarf_attr(&die, DW_AT_location, &attr) != nullptr) {
      switch (location_at(&attr, pc_, plan.location)) {
        case LocStatus::Ok:
          if (plan.location.empty()) plan.optimized_out = "its location is empty here";
          break;
        case LocStatus::NotHere:
          plan.optimized_out = "no location covers this address";
          break;
        case LocStatus::Error:
          throw Error(ErrorKind::Runtime,
                      fmt::format("cannot read the DWARF location of '{}' at {}: {}", shown, where_, dwarf_errmsg(-1)));
      }
      plan.origin = dwarf_whatform(&attr) == DW_FORM_exprloc ? "" : "from a location list";
    } else if (dwarf_attr_integrate(&die, DW_AT_const_value, &attr) != nullptr) {
      // The compiler knew the value: it is part of the plan, as an implicit value.
      Dwarf_Block block;
      Dwarf_Word value = 0;
      dwarf::Op op;
      if (dwarf_formblock(&attr, &block) == 0) {
        op.atom = DW_OP_implicit_value;
        op.number = block.length;
        op.block.assign(block.data, block.data + block.length);
      } else if (dwarf_formudata(&attr, &value) == 0) {
        op.atom = DW_OP_implicit_value;
        op.number = 8;
        op.block.resize(8);
        for (unsigned i = 0; i < 8; ++i) op.block[i] = static_cast<uint8_t>(value >> (8 * i));
      } else {
        plan.optimized_out = "its constant value has an unknown form";
      }
      if (!plan.optimized_out) plan.location.push_back(std::move(op));
      plan.origin = "a constant";
    } else {
      plan.optimized_out = "it has no location (optimized away)";
    }
    if (!plan.optimized_out) {
      bool fb = std::any_of(plan.location.begin(), plan.location.end(),
                            [](const dwarf::Op& o) { return o.atom == DW_OP_fbreg; });
      if (fb) {
        if (!frame_base_ok_) plan.optimized_out = "its frame base is not known here";
        plan.frame_base = frame_base_;
      }
      plan.cfa = cfa_;
    }
    return plan;
  }

  // `what` is "'NAME': reason"; the site goes between the two.
  [[noreturn]] void fail(const std::string& what, const std::string& hint = {}) const {
    size_t split = what.find("': ");
    if (split == std::string::npos) throw Error(ErrorKind::Runtime, fmt::format("cannot fetch {} at {}", what, where_), hint);
    throw Error(ErrorKind::Runtime,
                fmt::format("cannot fetch {} at {}: {}", what.substr(0, split + 1), where_, what.substr(split + 3)), hint);
  }

  // Applies `path` to the variable's type: member offsets, dereferences and
  // element offsets into plan.steps, the final type into plan.type.
  void compile_path(Dwarf_Die var, const VariablePath& path, dwarf::VariablePlan& plan, bool params = false) const {
    Dwarf_Die type;
    bool has_type = type_of(&var, &type);
    std::string so_far = path.base;
    auto peeled = [&]() {
      Dwarf_Die p;
      if (!has_type || dwarf_peel_type(&type, &p) != 0) fail(fmt::format("'{}': it has no type (void)", so_far));
      return p;
    };
    auto member = [&](Dwarf_Die agg, const std::string& name, const char* sep) {
      std::vector<std::string> names;
      int64_t offset = 0;
      Dwarf_Die found;
      if (!find_member(agg, name, offset, found, names)) {
        std::string list;
        for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
        fail(fmt::format("'{}{}{}': {} has no member '{}'", so_far, sep, name, type_name(&agg), name),
             fmt::format("members: {}", list));
      }
      if (dwarf_hasattr_integrate(&found, DW_AT_bit_size) || dwarf_hasattr_integrate(&found, DW_AT_data_bit_offset))
        fail(fmt::format("'{}': '{}' is a bit-field, which uptrace does not fetch", so_far + sep + name, name),
             "fetch the member with +OFF(EXPR):TYPE and mask it yourself");
      plan.steps.push_back({dwarf::Step::Kind::Offset, offset});
      has_type = type_of(&found, &type);
    };
    auto is_aggregate = [](int tag) {
      return tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type;
    };
    for (const PathStep& step : path.steps) {
      Dwarf_Die t = peeled();
      int tag = dwarf_tag(&t);
      std::string tname = type_name(&type);
      if (step.kind == PathStep::Kind::Member) {
        if (tag == DW_TAG_pointer_type)
          fail(fmt::format("'{}.{}': '{}' is a pointer ({})", so_far, step.member, so_far, tname),
               fmt::format("use {}->{}", so_far, step.member));
        if (!is_aggregate(tag))
          fail(fmt::format("'{}.{}': '{}' is not a struct or union ({})", so_far, step.member, so_far, tname));
        member(t, step.member, ".");
        so_far += "." + step.member;
      } else if (step.kind == PathStep::Kind::Arrow) {
        Dwarf_Die pointee;
        if (tag != DW_TAG_pointer_type) {
          std::string hint = is_aggregate(tag) ? fmt::format("use {}.{}", so_far, step.member) : std::string();
          fail(fmt::format("'{}->{}': '{}' is not a pointer ({})", so_far, step.member, so_far, tname), hint);
        }
        if (!peeled_type_of(&t, &pointee) || !is_aggregate(dwarf_tag(&pointee)))
          fail(fmt::format("'{}->{}': '{}' does not point to a struct or union ({})", so_far, step.member, so_far,
                           tname));
        plan.steps.push_back({dwarf::Step::Kind::Deref, 0});
        member(pointee, step.member, "->");
        so_far += "->" + step.member;
      } else {
        std::string at = fmt::format("{}[{}]", so_far, step.index);
        Dwarf_Die elem, elem_peeled;
        if (tag == DW_TAG_array_type) {
          if (auto count = array_count(&t); count && step.index >= *count)
            fail(fmt::format("'{}': index {} is past the end of {} ({} elements)", at, step.index, tname, *count));
        } else if (tag == DW_TAG_pointer_type) {
          plan.steps.push_back({dwarf::Step::Kind::Deref, 0});
        } else {
          fail(fmt::format("'{}': '{}' is neither an array nor a pointer ({})", at, so_far, tname));
        }
        Dwarf_Word size = 0;
        if (!type_of(&t, &elem) || dwarf_peel_type(&elem, &elem_peeled) != 0 ||
            dwarf_aggregate_size(&elem_peeled, &size) != 0)
          fail(fmt::format("'{}': the element size of {} is not known", at, tname));
        plan.steps.push_back({dwarf::Step::Kind::Offset, static_cast<int64_t>(step.index * size)});
        type = elem;
        has_type = true;
        so_far = at;
      }
    }
    for (unsigned i = 0; i < path.derefs; ++i) {
      Dwarf_Die t = peeled();
      if (dwarf_tag(&t) != DW_TAG_pointer_type)
        fail(fmt::format("'{}{}': '{}' is not a pointer ({})", std::string(i + 1, '*'), so_far, so_far,
                         type_name(&type)));
      plan.steps.push_back({dwarf::Step::Kind::Deref, 0});
      has_type = type_of(&t, &type);
      so_far = "*" + so_far;
    }
    plan.type = classify(has_type ? &type : nullptr, so_far, params);
  }

  // A member by name, looking through anonymous structs and unions.
  bool find_member(Dwarf_Die agg, const std::string& name, int64_t& offset, Dwarf_Die& found,
                   std::vector<std::string>& names) const {
    Dwarf_Die child;
    if (dwarf_child(&agg, &child) != 0) return false;
    do {
      int tag = dwarf_tag(&child);
      if (tag != DW_TAG_member && tag != DW_TAG_inheritance) continue;
      Dwarf_Word off = attr_udata(&child, DW_AT_data_member_location, 0);
      std::string n = die_name(&child);
      if (n.empty() && tag == DW_TAG_member) {
        Dwarf_Die inner;
        if (peeled_type_of(&child, &inner) && find_member(inner, name, offset, found, names)) {
          offset += static_cast<int64_t>(off);
          return true;
        }
        continue;
      }
      if (tag != DW_TAG_member) continue;
      names.push_back(n);
      if (n == name) {
        offset = static_cast<int64_t>(off);
        found = child;
        return true;
      }
    } while (dwarf_siblingof(&child, &child) == 0);
    return false;
  }

  // How the final value prints. A struct, union or non-char array has no one
  // value to print: the user is told what to fetch instead.
  dwarf::ValueType classify(Dwarf_Die* type, const std::string& what, bool params) const {
    dwarf::ValueType vt;
    if (type == nullptr) fail(fmt::format("'{}': it has type void", what));
    vt.name = type_name(type);
    Dwarf_Die t;
    if (dwarf_peel_type(type, &t) != 0) fail(fmt::format("'{}': its type cannot be read", what));
    int tag = dwarf_tag(&t);
    Dwarf_Word size = 0;
    switch (tag) {
      case DW_TAG_base_type: {
        Dwarf_Word enc = attr_udata(&t, DW_AT_encoding, 0);
        size = static_cast<Dwarf_Word>(std::max(dwarf_bytesize(&t), 0));
        if (size == 0 || size > 8) fail(fmt::format("'{}': {} is {} bytes wide; uptrace prints at most 8", what, vt.name, size));
        vt.size = static_cast<unsigned>(size);
        switch (enc) {
          case DW_ATE_boolean: vt.kind = dwarf::ValueKind::Bool; break;
          case DW_ATE_signed:
          case DW_ATE_signed_char: vt.kind = dwarf::ValueKind::Signed; break;
          case DW_ATE_unsigned:
          case DW_ATE_unsigned_char:
          case DW_ATE_UTF: vt.kind = dwarf::ValueKind::Unsigned; break;
          case DW_ATE_float:
            if (params) {  // $params prints what it can: the raw bits in hex
              vt.kind = dwarf::ValueKind::Pointer;
              break;
            }
            fail(fmt::format("'{}': it is a floating-point value ({}), which uptrace does not print", what, vt.name),
                 fmt::format("fetch its bits with {}:x{}", what, size * 8));
          default:
            fail(fmt::format("'{}': {} has an encoding uptrace does not print", what, vt.name));
        }
        return vt;
      }
      case DW_TAG_enumeration_type: {
        size = static_cast<Dwarf_Word>(std::max(dwarf_bytesize(&t), 0));
        if (size == 0 || size > 8) fail(fmt::format("'{}': {} has no usable size", what, vt.name));
        vt.kind = dwarf::ValueKind::Enum;
        vt.size = static_cast<unsigned>(size);
        Dwarf_Die underlying;
        vt.enum_signed = peeled_type_of(&t, &underlying) &&
                         (attr_udata(&underlying, DW_AT_encoding, 0) == DW_ATE_signed ||
                          attr_udata(&underlying, DW_AT_encoding, 0) == DW_ATE_signed_char);
        Dwarf_Die e;
        if (dwarf_child(&t, &e) == 0) {
          do {
            if (dwarf_tag(&e) != DW_TAG_enumerator) continue;
            Dwarf_Attribute a;
            Dwarf_Sword sv = 0;
            Dwarf_Word uv = 0;
            if (dwarf_attr(&e, DW_AT_const_value, &a) == nullptr) continue;
            uint64_t v = 0;
            if (dwarf_whatform(&a) == DW_FORM_sdata && dwarf_formsdata(&a, &sv) == 0) {
              v = static_cast<uint64_t>(sv);
            } else if (dwarf_formudata(&a, &uv) == 0) {
              v = uv;
              // data1/2/4 forms are zero-extended by libdw; a negative
              // enumerator of a signed enum needs its sign back.
              if (vt.enum_signed && size < 8 && (v >> (size * 8 - 1)) & 1) v |= ~uint64_t{0} << (size * 8);
            }
            if (!vt.enum_signed && size < 8) v &= (uint64_t{1} << (size * 8)) - 1;
            vt.enumerators.emplace_back(v, die_name(&e));
          } while (dwarf_siblingof(&e, &e) == 0);
        }
        return vt;
      }
      case DW_TAG_pointer_type:
      case DW_TAG_reference_type:
      case DW_TAG_rvalue_reference_type: {
        vt.size = kAddressSize;
        Dwarf_Die pointee;
        vt.kind = peeled_type_of(&t, &pointee) && is_char(&pointee) ? dwarf::ValueKind::CharPointer
                                                                     : dwarf::ValueKind::Pointer;
        return vt;
      }
      case DW_TAG_array_type: {
        Dwarf_Die elem;
        auto count = array_count(&t);
        if (peeled_type_of(&t, &elem) && is_char(&elem) && count) {
          vt.kind = dwarf::ValueKind::CharArray;
          vt.size = static_cast<unsigned>(std::min<uint64_t>(*count, 256));
          return vt;
        }
        if (params) {  // the array's address, as C passes it
          vt.kind = dwarf::ValueKind::Pointer;
          vt.size = kAddressSize;
          return vt;
        }
        std::string hint = count && *count > 0 ? fmt::format("fetch an element: {}[0] .. {}[{}]", what, what, *count - 1)
                                               : fmt::format("fetch an element: {}[0]", what);
        fail(fmt::format("'{}': it is an array ({}), not one value", what, vt.name), hint);
      }
      case DW_TAG_structure_type:
      case DW_TAG_union_type:
      case DW_TAG_class_type: {
        std::vector<std::string> names;
        int64_t off = 0;
        Dwarf_Die found;
        find_member(t, "", off, found, names);
        std::string list;
        for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
        fail(fmt::format("'{}': it is a {}, not one value", what, vt.name),
             fmt::format("fetch one of its members ({}): {}.{}", list, what, names.empty() ? "FIELD" : names.front()));
      }
      default:
        fail(fmt::format("'{}': uptrace does not print values of type {}", what, vt.name));
    }
  }

  Dwarf_Addr pc_;
  uint64_t bias_;
  std::string where_;
  Dwarf_Die cu_{};
  std::vector<Dwarf_Die> scopes_;  // innermost first, up to the function
  std::optional<Dwarf_Die> function_;
  std::optional<Dwarf_Die> subprogram_;  // the function the code is of (not an inlined copy)
  dwarf::Expr frame_base_;
  bool frame_base_ok_ = false;
  dwarf::Expr cfa_;
};

}  // namespace

std::unique_ptr<VariableSource> make_site_variables(Dwarf* dwarf, Elf* elf, FileAddr pc, uint64_t load_bias,
                                                    const std::string& where) {
  return std::make_unique<SiteVariables>(dwarf, elf, pc.value, load_bias, where);
}

}  // namespace uptrace::elf::detail
