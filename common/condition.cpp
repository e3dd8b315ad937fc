#include "common/condition.h"

namespace uptrace {

std::string_view to_string(CompareOp op) {
  switch (op) {
    case CompareOp::Eq: return "==";
    case CompareOp::Ne: return "!=";
    case CompareOp::Lt: return "<";
    case CompareOp::Le: return "<=";
    case CompareOp::Gt: return ">";
    case CompareOp::Ge: return ">=";
    case CompareOp::Glob: return "~";
  }
  return "?";
}

namespace {

template <class T>
bool compare(CompareOp op, T a, T b) {
  switch (op) {
    case CompareOp::Eq: return a == b;
    case CompareOp::Ne: return a != b;
    case CompareOp::Lt: return a < b;
    case CompareOp::Le: return a <= b;
    case CompareOp::Gt: return a > b;
    case CompareOp::Ge: return a >= b;
    case CompareOp::Glob: return false;  // strings only
  }
  return false;
}

}  // namespace

bool compare_integers(CompareOp op, uint64_t a, uint64_t b, bool is_signed) {
  if (is_signed) return compare(op, static_cast<int64_t>(a), static_cast<int64_t>(b));
  return compare(op, a, b);
}

}  // namespace uptrace
