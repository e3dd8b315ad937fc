#include "core/dwarf_expr.h"

#include <dwarf.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace uptrace::core {

namespace {

constexpr size_t kStackDepth = 64;
// A malformed or hostile expression (a bra loop) must not hang the tracer
// with the target stopped.
constexpr size_t kMaxSteps = 10000;

bool in_range(uint8_t atom, uint8_t first, uint8_t last) { return atom >= first && atom <= last; }

// Ops after which the value does not exist at this pc: evaluating them needs
// state uptrace does not have (the caller's registers at entry, another
// variable's value).
bool means_optimized_out(uint8_t atom) {
  switch (atom) {
    case DW_OP_entry_value:
    case DW_OP_GNU_entry_value:
    case DW_OP_implicit_pointer:
    case DW_OP_GNU_implicit_pointer:
    case DW_OP_GNU_parameter_ref:
    case DW_OP_GNU_variable_value:
      return true;
    default:
      return false;
  }
}

const char* op_name(uint8_t atom) {
  switch (atom) {
    case DW_OP_addr: return "DW_OP_addr";
    case DW_OP_deref: return "DW_OP_deref";
    case DW_OP_const1u: return "DW_OP_const1u";
    case DW_OP_const1s: return "DW_OP_const1s";
    case DW_OP_const2u: return "DW_OP_const2u";
    case DW_OP_const2s: return "DW_OP_const2s";
    case DW_OP_const4u: return "DW_OP_const4u";
    case DW_OP_const4s: return "DW_OP_const4s";
    case DW_OP_const8u: return "DW_OP_const8u";
    case DW_OP_const8s: return "DW_OP_const8s";
    case DW_OP_constu: return "DW_OP_constu";
    case DW_OP_consts: return "DW_OP_consts";
    case DW_OP_dup: return "DW_OP_dup";
    case DW_OP_drop: return "DW_OP_drop";
    case DW_OP_over: return "DW_OP_over";
    case DW_OP_pick: return "DW_OP_pick";
    case DW_OP_swap: return "DW_OP_swap";
    case DW_OP_rot: return "DW_OP_rot";
    case DW_OP_abs: return "DW_OP_abs";
    case DW_OP_and: return "DW_OP_and";
    case DW_OP_div: return "DW_OP_div";
    case DW_OP_minus: return "DW_OP_minus";
    case DW_OP_mod: return "DW_OP_mod";
    case DW_OP_mul: return "DW_OP_mul";
    case DW_OP_neg: return "DW_OP_neg";
    case DW_OP_not: return "DW_OP_not";
    case DW_OP_or: return "DW_OP_or";
    case DW_OP_plus: return "DW_OP_plus";
    case DW_OP_plus_uconst: return "DW_OP_plus_uconst";
    case DW_OP_shl: return "DW_OP_shl";
    case DW_OP_shr: return "DW_OP_shr";
    case DW_OP_shra: return "DW_OP_shra";
    case DW_OP_xor: return "DW_OP_xor";
    case DW_OP_bra: return "DW_OP_bra";
    case DW_OP_eq: return "DW_OP_eq";
    case DW_OP_ge: return "DW_OP_ge";
    case DW_OP_gt: return "DW_OP_gt";
    case DW_OP_le: return "DW_OP_le";
    case DW_OP_lt: return "DW_OP_lt";
    case DW_OP_ne: return "DW_OP_ne";
    case DW_OP_skip: return "DW_OP_skip";
    case DW_OP_regx: return "DW_OP_regx";
    case DW_OP_fbreg: return "DW_OP_fbreg";
    case DW_OP_bregx: return "DW_OP_bregx";
    case DW_OP_piece: return "DW_OP_piece";
    case DW_OP_deref_size: return "DW_OP_deref_size";
    case DW_OP_nop: return "DW_OP_nop";
    case DW_OP_call_frame_cfa: return "DW_OP_call_frame_cfa";
    case DW_OP_implicit_value: return "DW_OP_implicit_value";
    case DW_OP_stack_value: return "DW_OP_stack_value";
    case DW_OP_implicit_pointer: return "DW_OP_implicit_pointer";
    case DW_OP_GNU_implicit_pointer: return "DW_OP_GNU_implicit_pointer";
    case DW_OP_entry_value: return "DW_OP_entry_value";
    case DW_OP_GNU_entry_value: return "DW_OP_GNU_entry_value";
    case DW_OP_GNU_parameter_ref: return "DW_OP_GNU_parameter_ref";
    case DW_OP_GNU_variable_value: return "DW_OP_GNU_variable_value";
    case DW_OP_bit_piece: return "DW_OP_bit_piece";
    case DW_OP_form_tls_address: return "DW_OP_form_tls_address";
    case DW_OP_GNU_push_tls_address: return "DW_OP_GNU_push_tls_address";
    case DW_OP_addrx: return "DW_OP_addrx";
    case DW_OP_constx: return "DW_OP_constx";
    case DW_OP_GNU_addr_index: return "DW_OP_GNU_addr_index";
    case DW_OP_GNU_const_index: return "DW_OP_GNU_const_index";
    case DW_OP_convert: return "DW_OP_convert";
    case DW_OP_GNU_convert: return "DW_OP_GNU_convert";
    case DW_OP_regval_type: return "DW_OP_regval_type";
    case DW_OP_GNU_regval_type: return "DW_OP_GNU_regval_type";
    case DW_OP_deref_type: return "DW_OP_deref_type";
    case DW_OP_GNU_deref_type: return "DW_OP_GNU_deref_type";
    case DW_OP_const_type: return "DW_OP_const_type";
    case DW_OP_GNU_const_type: return "DW_OP_GNU_const_type";
    case DW_OP_reinterpret: return "DW_OP_reinterpret";
    case DW_OP_GNU_reinterpret: return "DW_OP_GNU_reinterpret";
    case DW_OP_call2: return "DW_OP_call2";
    case DW_OP_call4: return "DW_OP_call4";
    case DW_OP_call_ref: return "DW_OP_call_ref";
    case DW_OP_push_object_address: return "DW_OP_push_object_address";
    case DW_OP_xderef: return "DW_OP_xderef";
    case DW_OP_xderef_size: return "DW_OP_xderef_size";
    default: return nullptr;
  }
}

bool is_supported(uint8_t atom) {
  if (in_range(atom, DW_OP_lit0, DW_OP_lit31) || in_range(atom, DW_OP_reg0, DW_OP_reg31) ||
      in_range(atom, DW_OP_breg0, DW_OP_breg31) || means_optimized_out(atom))
    return true;
  switch (atom) {
    case DW_OP_addr: case DW_OP_deref: case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u:
    case DW_OP_const2s: case DW_OP_const4u: case DW_OP_const4s: case DW_OP_const8u: case DW_OP_const8s:
    case DW_OP_constu: case DW_OP_consts: case DW_OP_dup: case DW_OP_drop: case DW_OP_over: case DW_OP_pick:
    case DW_OP_swap: case DW_OP_rot: case DW_OP_abs: case DW_OP_and: case DW_OP_div: case DW_OP_minus:
    case DW_OP_mod: case DW_OP_mul: case DW_OP_neg: case DW_OP_not: case DW_OP_or: case DW_OP_plus:
    case DW_OP_plus_uconst: case DW_OP_shl: case DW_OP_shr: case DW_OP_shra: case DW_OP_xor: case DW_OP_bra:
    case DW_OP_eq: case DW_OP_ge: case DW_OP_gt: case DW_OP_le: case DW_OP_lt: case DW_OP_ne: case DW_OP_skip:
    case DW_OP_regx: case DW_OP_fbreg: case DW_OP_bregx: case DW_OP_piece: case DW_OP_deref_size: case DW_OP_nop:
    case DW_OP_call_frame_cfa: case DW_OP_implicit_value: case DW_OP_stack_value:
      return true;
    default:
      return false;
  }
}

std::optional<unsigned> register_of(const dwarf::Op& op) {
  if (in_range(op.atom, DW_OP_reg0, DW_OP_reg31)) return op.atom - DW_OP_reg0;
  if (in_range(op.atom, DW_OP_breg0, DW_OP_breg31)) return op.atom - DW_OP_breg0;
  if (op.atom == DW_OP_regx || op.atom == DW_OP_bregx) return static_cast<unsigned>(op.number);
  return std::nullopt;
}

// One run of the machine. A member function per concern would hide the one
// thing worth seeing here: how each op moves the stack.
class Machine {
 public:
  Machine(const dwarf::Expr& expr, const DwarfContext& ctx) : expr_(expr), ctx_(ctx) {}

  DwarfPlace run() {
    size_t steps = 0;
    for (size_t i = 0; i < expr_.size(); ++i) {
      if (++steps > kMaxSteps) return unsupported("the expression loops");
      const dwarf::Op& op = expr_[i];
      uint8_t a = op.atom;
      if (means_optimized_out(a)) return DwarfPlace{};
      if (in_range(a, DW_OP_lit0, DW_OP_lit31)) {
        if (!push(a - DW_OP_lit0)) return overflow();
        continue;
      }
      if (auto regno = register_of(op)) {
        std::optional<uint64_t> r = ctx_.regs.read(*regno);
        if (!r) return unsupported("a register uptrace cannot read");
        bool breg = a == DW_OP_bregx || in_range(a, DW_OP_breg0, DW_OP_breg31);
        if (!breg) {
          set_pending_value(*r);
          continue;
        }
        uint64_t offset = a == DW_OP_bregx ? op.number2 : op.number;
        if (!push(*r + offset)) return overflow();
        continue;
      }
      switch (a) {
        case DW_OP_addr:
          if (!push(op.number + ctx_.load_bias)) return overflow();
          break;
        case DW_OP_const1u: case DW_OP_const1s: case DW_OP_const2u: case DW_OP_const2s: case DW_OP_const4u:
        case DW_OP_const4s: case DW_OP_const8u: case DW_OP_const8s: case DW_OP_constu: case DW_OP_consts:
          if (!push(op.number)) return overflow();
          break;
        case DW_OP_fbreg: {
          if (ctx_.frame_base == nullptr) return unsupported("DW_OP_fbreg without a frame base");
          DwarfContext inner{ctx_.regs, ctx_.mem, nullptr, ctx_.cfa, ctx_.load_bias};
          DwarfPlace fb = evaluate_location(*ctx_.frame_base, inner);
          uint64_t base = 0;
          if (fb.kind == DwarfPlace::Kind::Memory) {
            base = fb.addr;
          } else if (fb.kind == DwarfPlace::Kind::Bytes && fb.bytes.size >= 8) {
            std::memcpy(&base, fb.bytes.data.data(), 8);
          } else {
            return fb;  // optimized out, fault or unsupported: so is the variable
          }
          if (!push(base + op.number)) return overflow();
          break;
        }
        case DW_OP_call_frame_cfa: {
          if (ctx_.cfa == nullptr || ctx_.cfa->empty()) return unsupported("no call frame information at the site");
          DwarfContext inner{ctx_.regs, ctx_.mem, nullptr, nullptr, ctx_.load_bias};
          DwarfPlace cfa = evaluate_location(*ctx_.cfa, inner);
          if (cfa.kind != DwarfPlace::Kind::Memory) return cfa.kind == DwarfPlace::Kind::Bytes ? unsupported("a CFA rule that is not an expression") : cfa;
          if (!push(cfa.addr)) return overflow();
          break;
        }
        case DW_OP_dup:
          if (size_ < 1) return underflow();
          if (!push(stack_[size_ - 1])) return overflow();
          break;
        case DW_OP_drop:
          if (size_ < 1) return underflow();
          --size_;
          break;
        case DW_OP_over:
          if (size_ < 2) return underflow();
          if (!push(stack_[size_ - 2])) return overflow();
          break;
        case DW_OP_pick:
          if (op.number >= size_) return underflow();
          if (!push(stack_[size_ - 1 - op.number])) return overflow();
          break;
        case DW_OP_swap:
          if (size_ < 2) return underflow();
          std::swap(stack_[size_ - 1], stack_[size_ - 2]);
          break;
        case DW_OP_rot:  // top three: (c b a) -> (a c b), a on top before
          if (size_ < 3) return underflow();
          std::rotate(stack_.begin() + static_cast<long>(size_ - 3), stack_.begin() + static_cast<long>(size_ - 1),
                      stack_.begin() + static_cast<long>(size_));
          break;
        case DW_OP_deref:
        case DW_OP_deref_size: {
          if (size_ < 1) return underflow();
          uint64_t n = a == DW_OP_deref ? 8 : op.number;
          if (n == 0 || n > 8) return unsupported("DW_OP_deref_size of more than 8 bytes");
          uint64_t v = 0;
          if (!ctx_.mem.read(RuntimeAddr(stack_[size_ - 1]), {reinterpret_cast<uint8_t*>(&v), n})) return fault();
          stack_[size_ - 1] = v;
          break;
        }
        case DW_OP_plus_uconst:
          if (size_ < 1) return underflow();
          stack_[size_ - 1] += op.number;
          break;
        case DW_OP_neg:
          if (size_ < 1) return underflow();
          stack_[size_ - 1] = 0 - stack_[size_ - 1];
          break;
        case DW_OP_not:
          if (size_ < 1) return underflow();
          stack_[size_ - 1] = ~stack_[size_ - 1];
          break;
        case DW_OP_abs:
          if (size_ < 1) return underflow();
          if (static_cast<int64_t>(stack_[size_ - 1]) < 0) stack_[size_ - 1] = 0 - stack_[size_ - 1];
          break;
        case DW_OP_plus: case DW_OP_minus: case DW_OP_mul: case DW_OP_div: case DW_OP_mod: case DW_OP_and:
        case DW_OP_or: case DW_OP_xor: case DW_OP_shl: case DW_OP_shr: case DW_OP_shra: case DW_OP_eq:
        case DW_OP_ne: case DW_OP_lt: case DW_OP_gt: case DW_OP_le: case DW_OP_ge: {
          if (size_ < 2) return underflow();
          uint64_t b = stack_[--size_];  // the top
          uint64_t x = stack_[size_ - 1];
          auto sx = static_cast<int64_t>(x), sb = static_cast<int64_t>(b);
          uint64_t r = 0;
          switch (a) {
            case DW_OP_plus: r = x + b; break;
            case DW_OP_minus: r = x - b; break;
            case DW_OP_mul: r = x * b; break;
            case DW_OP_div:
              if (b == 0) return unsupported("division by zero");
              // DWARF's div is signed; INT64_MIN / -1 would trap the tracer.
              r = sb == -1 ? 0 - x : static_cast<uint64_t>(sx / sb);
              break;
            case DW_OP_mod:
              if (b == 0) return unsupported("division by zero");
              r = x % b;
              break;
            case DW_OP_and: r = x & b; break;
            case DW_OP_or: r = x | b; break;
            case DW_OP_xor: r = x ^ b; break;
            case DW_OP_shl: r = b >= 64 ? 0 : x << b; break;
            case DW_OP_shr: r = b >= 64 ? 0 : x >> b; break;
            case DW_OP_shra: r = static_cast<uint64_t>(b >= 64 ? (sx < 0 ? -1 : 0) : sx >> b); break;
            case DW_OP_eq: r = sx == sb; break;
            case DW_OP_ne: r = sx != sb; break;
            case DW_OP_lt: r = sx < sb; break;
            case DW_OP_gt: r = sx > sb; break;
            case DW_OP_le: r = sx <= sb; break;
            case DW_OP_ge: r = sx >= sb; break;
          }
          stack_[size_ - 1] = r;
          break;
        }
        case DW_OP_skip:
        case DW_OP_bra: {
          bool take = true;
          if (a == DW_OP_bra) {
            if (size_ < 1) return underflow();
            take = stack_[--size_] != 0;
          }
          if (!take) break;
          // The operand counts bytes from the end of this 3-byte op.
          uint64_t target = op.offset + 3 + static_cast<uint64_t>(static_cast<int16_t>(op.number));
          auto it = std::find_if(expr_.begin(), expr_.end(), [&](const dwarf::Op& o) { return o.offset == target; });
          bool at_end = it == expr_.end() && !expr_.empty() && target > expr_.back().offset;
          if (it == expr_.end() && !at_end) return unsupported("a branch into the middle of an op");
          i = static_cast<size_t>(it - expr_.begin()) - 1;  // the loop's ++i lands on the target
          break;
        }
        case DW_OP_stack_value:
          if (size_ < 1) return underflow();
          set_pending_value(stack_[--size_]);
          break;
        case DW_OP_implicit_value:
          if (op.block.size() > ValueBytes::kMax) return unsupported("an implicit value larger than 32 bytes");
          pending_ = Pending::Bytes;
          pending_bytes_.size = static_cast<uint8_t>(op.block.size());
          std::copy(op.block.begin(), op.block.end(), pending_bytes_.data.begin());
          break;
        case DW_OP_piece:
          if (auto bad = add_piece(op.number)) return *bad;
          break;
        case DW_OP_nop:
          break;
        default:
          return unsupported("an op uptrace does not evaluate");
      }
    }
    if (pieces_used_) {
      if (pending_ != Pending::None || size_ != 0) return unsupported("ops after the last DW_OP_piece");
      if (piece_missing_) return DwarfPlace{};
      DwarfPlace p;
      p.kind = DwarfPlace::Kind::Bytes;
      p.bytes = pieces_;
      return p;
    }
    if (pending_ != Pending::None) {
      DwarfPlace p;
      p.kind = DwarfPlace::Kind::Bytes;
      p.bytes = pending_bytes_;
      return p;
    }
    if (size_ == 0) return DwarfPlace{};  // an empty location: optimized out
    DwarfPlace p;
    p.kind = DwarfPlace::Kind::Memory;
    p.addr = stack_[size_ - 1];
    return p;
  }

 private:
  enum class Pending : uint8_t { None, Bytes };

  bool push(uint64_t v) {
    if (size_ >= kStackDepth) return false;
    stack_[size_++] = v;
    return true;
  }
  void set_pending_value(uint64_t v) {
    pending_ = Pending::Bytes;
    pending_bytes_.size = 8;
    std::memcpy(pending_bytes_.data.data(), &v, 8);
  }
  static DwarfPlace unsupported(std::string_view why) {
    DwarfPlace p;
    p.kind = DwarfPlace::Kind::Unsupported;
    p.why = why;
    return p;
  }
  static DwarfPlace overflow() { return unsupported("the expression stack overflows"); }
  static DwarfPlace underflow() { return unsupported("the expression pops an empty stack"); }
  static DwarfPlace fault() {
    DwarfPlace p;
    p.kind = DwarfPlace::Kind::Fault;
    return p;
  }

  // DW_OP_piece closes one piece: a register or value set just before, a
  // memory address on the stack, or nothing (that part is optimized out).
  std::optional<DwarfPlace> add_piece(uint64_t n) {
    pieces_used_ = true;
    if (n > ValueBytes::kMax - pieces_.size) return unsupported("a value larger than 32 bytes in pieces");
    uint8_t* out = pieces_.data.data() + pieces_.size;
    if (pending_ == Pending::Bytes) {
      // A register piece smaller than the register is its low-order part.
      std::memcpy(out, pending_bytes_.data.data(), std::min<size_t>(n, pending_bytes_.size));
      pending_ = Pending::None;
    } else if (size_ > 0) {
      if (!ctx_.mem.read(RuntimeAddr(stack_[--size_]), {out, n})) return fault();
    } else {
      piece_missing_ = true;
    }
    pieces_.size = static_cast<uint8_t>(pieces_.size + n);
    return std::nullopt;
  }

  const dwarf::Expr& expr_;
  const DwarfContext& ctx_;
  std::array<uint64_t, kStackDepth> stack_{};
  size_t size_ = 0;
  Pending pending_ = Pending::None;
  ValueBytes pending_bytes_;
  ValueBytes pieces_;
  bool pieces_used_ = false;
  bool piece_missing_ = false;
};

}  // namespace

DwarfPlace evaluate_location(const dwarf::Expr& expr, const DwarfContext& ctx) { return Machine(expr, ctx).run(); }

std::optional<std::string> unsupported_op(const dwarf::Expr& expr) {
  for (const dwarf::Op& op : expr) {
    if (is_supported(op.atom)) continue;
    const char* name = op_name(op.atom);
    return name ? fmt::format("its location uses {}, which uptrace does not evaluate", name)
                : fmt::format("its location uses DW_OP {:#x}, which uptrace does not know", op.atom);
  }
  return std::nullopt;
}

std::vector<unsigned> registers_used(const dwarf::Expr& expr) {
  std::vector<unsigned> out;
  for (const dwarf::Op& op : expr)
    if (auto r = register_of(op)) out.push_back(*r);
  return out;
}

bool uses_frame_base(const dwarf::Expr& expr) {
  return std::any_of(expr.begin(), expr.end(), [](const dwarf::Op& op) { return op.atom == DW_OP_fbreg; });
}

bool uses_cfa(const dwarf::Expr& expr) {
  return std::any_of(expr.begin(), expr.end(), [](const dwarf::Op& op) { return op.atom == DW_OP_call_frame_cfa; });
}

std::string describe(const dwarf::Expr& expr, const std::function<std::string(unsigned)>& reg_name) {
  std::string out;
  for (const dwarf::Op& op : expr) {
    if (!out.empty()) out += "; ";
    uint8_t a = op.atom;
    auto s = [](uint64_t v) { return static_cast<int64_t>(v); };
    if (in_range(a, DW_OP_lit0, DW_OP_lit31)) {
      out += fmt::format("DW_OP_lit{}", a - DW_OP_lit0);
    } else if (in_range(a, DW_OP_reg0, DW_OP_reg31)) {
      out += fmt::format("DW_OP_reg{} ({})", a - DW_OP_reg0, reg_name(a - DW_OP_reg0));
    } else if (in_range(a, DW_OP_breg0, DW_OP_breg31)) {
      out += fmt::format("DW_OP_breg{} ({}) {:+}", a - DW_OP_breg0, reg_name(a - DW_OP_breg0), s(op.number));
    } else if (a == DW_OP_regx) {
      out += fmt::format("DW_OP_regx {} ({})", op.number, reg_name(static_cast<unsigned>(op.number)));
    } else if (a == DW_OP_bregx) {
      out += fmt::format("DW_OP_bregx {} ({}) {:+}", op.number, reg_name(static_cast<unsigned>(op.number)),
                         s(op.number2));
    } else if (const char* name = op_name(a)) {
      out += name;
      switch (a) {
        case DW_OP_fbreg: case DW_OP_consts: case DW_OP_const1s: case DW_OP_const2s: case DW_OP_const4s:
        case DW_OP_const8s: case DW_OP_skip: case DW_OP_bra:
          out += fmt::format(" {}", s(op.number));
          break;
        case DW_OP_addr:
          out += fmt::format(" {:#x}", op.number);
          break;
        case DW_OP_const1u: case DW_OP_const2u: case DW_OP_const4u: case DW_OP_const8u: case DW_OP_constu:
        case DW_OP_plus_uconst: case DW_OP_piece: case DW_OP_deref_size: case DW_OP_pick:
          out += fmt::format(" {}", op.number);
          break;
        case DW_OP_implicit_value:
          out += fmt::format(" ({} bytes)", op.block.size());
          break;
        default:
          break;
      }
    } else {
      out += fmt::format("DW_OP {:#x}", a);
    }
  }
  return out;
}

}  // namespace uptrace::core
