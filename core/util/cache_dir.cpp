#include "core/util/cache_dir.h"

#include <cstdlib>
#include <filesystem>

namespace moe {

Result<std::string> user_cache_dir() {
  std::string dir;
  if (const char* d = std::getenv("MOE_CACHE_DIR"); d != nullptr && *d != '\0') {
    dir = d;
  } else if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x == '/') {
    dir = std::string(x) + "/moe-studio";
  } else if (const char* h = std::getenv("HOME"); h != nullptr && *h == '/') {
    dir = std::string(h) + "/.cache/moe-studio";
  } else {
    return Error{"no cache folder: set MOE_CACHE_DIR, XDG_CACHE_HOME or HOME"};
  }
  std::error_code ec;
  const bool created = std::filesystem::create_directories(dir, ec);
  if (ec) return make_error(dir, ": cannot create the cache folder (", ec.message(), ")");
  if (created) {  // ours: private (a folder the user named keeps its own mode)
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
  }
  return dir;
}

}  // namespace moe
