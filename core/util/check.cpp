#include "core/util/check.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace moe::detail {

void check_failed(const char* file, int line, const char* cond, std::string_view msg) {
  std::string m(msg);
  std::fprintf(stderr, "%s:%d: MOE_CHECK(%s) failed: %s\n", file, line, cond, m.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace moe::detail
