#include "core/util/byte_size.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

namespace moe {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

/// The leading decimal number ("1.5" of "1.5GiB"); the rest goes to `rest`.
bool leading_number(std::string_view s, double& value, std::string_view& rest) {
  size_t n = 0;
  bool digits = false, dot = false;
  while (n < s.size()) {
    const char c = s[n];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++n;
  }
  if (!digits) return false;
  const auto r = std::from_chars(s.data(), s.data() + n, value);
  if (r.ec != std::errc() || r.ptr != s.data() + n || !std::isfinite(value)) return false;
  rest = trim(s.substr(n));
  return true;
}

bool unit_factor(std::string_view unit, double& factor) {
  std::string u;
  for (const char c : unit) u += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  struct Unit {
    const char* name;
    double factor;
  };
  static constexpr std::array<Unit, 14> kUnits = {{{"", 1},
                                                   {"b", 1},
                                                   {"k", 1024.0},
                                                   {"kib", 1024.0},
                                                   {"kb", 1e3},
                                                   {"m", 1048576.0},
                                                   {"mib", 1048576.0},
                                                   {"mb", 1e6},
                                                   {"g", 1073741824.0},
                                                   {"gib", 1073741824.0},
                                                   {"gb", 1e9},
                                                   {"t", 1099511627776.0},
                                                   {"tib", 1099511627776.0},
                                                   {"tb", 1e12}}};
  for (const auto& k : kUnits) {
    if (u == k.name) {
      factor = k.factor;
      return true;
    }
  }
  return false;
}

Error bad_size(std::string_view text) {
  return make_error("bad size '", std::string(text),
                    "': expected a number and a unit, e.g. 12GiB, 512MiB, 1.5G, 4096 (bytes)");
}

}  // namespace

Result<uint64_t> parse_byte_size(std::string_view text) {
  const std::string_view s = trim(text);
  double value = 0, factor = 1;
  std::string_view unit;
  if (!leading_number(s, value, unit) || !unit_factor(unit, factor)) return bad_size(text);
  const double bytes = std::floor(value * factor);
  if (bytes >= 18446744073709551616.0) {
    return make_error("size '", std::string(text), "' is too large");
  }
  return static_cast<uint64_t>(bytes);
}

}  // namespace moe
