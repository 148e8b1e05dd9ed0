#pragma once
// The RAM budget of the tiered expert store (`--ram-budget`): a size ("12GiB", "512MiB",
// "1.5G", "4096") or a percentage of the bytes it takes to hold every expert ("50%"). Parsed in
// one place so every front end gives the same errors; resolved against a model once it is open.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/regular_file.h"  // format_bytes
#include "core/util/status.h"

namespace moe {

struct RamBudget {
  uint64_t bytes = 0;  ///< an absolute size (when percent == 0)
  double percent = 0;  ///< (0, 100]: a share of the expert bytes
  bool is_percent() const { return percent > 0; }
  /// Bytes for a model whose experts take `all_experts_bytes` in the store.
  uint64_t resolve(uint64_t all_experts_bytes) const;
  bool operator==(const RamBudget&) const = default;
};

/// A size as parse_byte_size() reads it ("12GiB", "12G", "512MiB", "1.5G", "4096" bytes; "GB"
/// is 10^9 as disk vendors use it), or "50%" of the expert bytes ((0, 100]). Errors quote the
/// string and say what is accepted.
Result<RamBudget> parse_ram_budget(std::string_view text);

}  // namespace moe
