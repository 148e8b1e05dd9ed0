#pragma once
// MOE_CHECK: an invariant that must hold in release builds too. On failure it prints
// file:line and the message to stderr and aborts: it guards programming errors, never input
// errors (those return moe::Error).
#include <string_view>

namespace moe::detail {
[[noreturn]] void check_failed(const char* file, int line, const char* cond, std::string_view msg);
}  // namespace moe::detail

#define MOE_CHECK(cond, msg)                                            \
  do {                                                                  \
    if (!(cond)) [[unlikely]]                                           \
      ::moe::detail::check_failed(__FILE__, __LINE__, #cond, (msg));    \
  } while (0)
