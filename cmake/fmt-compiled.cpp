// fmt's out-of-line functions, compiled once for a static build. Debian
// ships fmt as headers and a shared library only, and fmt header-only makes
// every translation unit instantiate its formatting core again: with it the
// cross builds of tests/cross/run spent about 40 % of their compile time in
// fmt. This file is the one place that defines what format.h declares
// (format-inl.h) and the instantiations format.h declares extern.
#include <fmt/format-inl.h>

FMT_BEGIN_NAMESPACE
namespace detail {
template auto thousands_sep_impl<char>(locale_ref) -> thousands_sep_result<char>;
template auto thousands_sep_impl<wchar_t>(locale_ref) -> thousands_sep_result<wchar_t>;
template auto decimal_point_impl(locale_ref) -> char;
template auto decimal_point_impl(locale_ref) -> wchar_t;
#if FMT_VERSION >= 100000  // fmt 10 (Debian 13) declares this one extern too
template void vformat_to(buffer<char>&, string_view, typename vformat_args<>::type, locale_ref);
#endif
}  // namespace detail
FMT_END_NAMESPACE
