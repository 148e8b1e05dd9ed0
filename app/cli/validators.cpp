#include "app/cli/validators.h"

#include <sys/stat.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace moe::cli {

CLI::Validator regular_file() {
  return CLI::Validator(
      [](std::string& path) -> std::string {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return "File does not exist: " + path;
        if (S_ISREG(st.st_mode)) return {};
        const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                           : S_ISFIFO(st.st_mode) ? "a FIFO (named pipe)"
                           : S_ISCHR(st.st_mode)  ? "a character device"
                                                  : "a socket or other special file";
        return path + " is " + kind + ", not a regular file";
      },
      "FILE");
}

CLI::Validator finite_range(double lo, double hi, bool lo_open) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s%g, %g]", lo_open ? "(" : "[", lo, hi);
  const std::string range = buf;
  return CLI::Validator(
      [lo, hi, lo_open, range](std::string& input) -> std::string {
        double v = 0;
        if (!CLI::detail::lexical_cast(input, v) || !std::isfinite(v) || v < lo || v > hi ||
            (lo_open && v == lo)) {
          return "Value " + input + " is not a finite number in " + range;
        }
        return {};
      },
      "NUMBER in " + range);
}

}  // namespace moe::cli
