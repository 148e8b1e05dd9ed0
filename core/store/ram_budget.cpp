#include "core/store/ram_budget.h"

#include "core/util/byte_size.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace moe {
namespace {

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
  RamBudget out;
  if (s.back() == '%') {
    double value = 0;
    const std::string_view num = s.substr(0, s.size() - 1);
    const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), value);
    if (num.empty() || ec != std::errc{} || ptr != num.data() + num.size() ||
        !std::isfinite(value)) {
      return budget_error(text, "is not a percentage");
    }
    if (value <= 0 || value > 100) return budget_error(text, "a percentage must be in (0, 100]");
    out.percent = value;
    return out;
  }
  // Sizes: one parser and one unit table for every option that takes bytes.
  auto bytes = parse_byte_size(s);
  if (!bytes.ok()) return budget_error(text, "is not a size");
  if (*bytes < 1) return budget_error(text, "must be at least one byte");
  out.bytes = *bytes;
  return out;
}

}  // namespace moe
