#include "core/store/ram_budget.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace moe {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Error budget_error(std::string_view text, const char* why) {
  return make_error("RAM budget '", std::string(text), "': ", why,
                    " (give a size such as 12GiB, 512MiB, 1.5G, a byte count, or a share of "
                    "the expert bytes such as 50%)");
}

}  // namespace

uint64_t RamBudget::resolve(uint64_t all_experts_bytes) const {
  if (!is_percent()) return bytes;
  return static_cast<uint64_t>(
      std::floor(static_cast<double>(all_experts_bytes) * percent / 100.0));
}

Result<RamBudget> parse_ram_budget(std::string_view text) {
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  const std::string_view s = text.substr(b, e - b);
  if (s.empty()) return budget_error(text, "empty");
  size_t n = 0;
  while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) ++n;
  if (n == 0) return budget_error(text, "does not start with a number");
  double value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, value);
  if (ec != std::errc{} || ptr != s.data() + n || !std::isfinite(value)) {
    return budget_error(text, "is not a number");
  }
  const std::string unit = lower(s.substr(n));
  RamBudget out;
  if (unit == "%") {
    if (value <= 0 || value > 100) return budget_error(text, "a percentage must be in (0, 100]");
    out.percent = value;
    return out;
  }
  double scale = 0;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib")
    scale = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib")
    scale = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb" || unit == "tib")
    scale = 1024.0 * 1024 * 1024 * 1024;
  else
    return budget_error(text, "unknown unit");
  const double bytes = std::floor(value * scale);
  if (bytes < 1) return budget_error(text, "must be at least one byte");
  if (bytes > 9.0e18) return budget_error(text, "is too large");
  out.bytes = static_cast<uint64_t>(bytes);
  return out;
}

}  // namespace moe
