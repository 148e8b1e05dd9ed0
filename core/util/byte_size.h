#pragma once
// Byte sizes typed by people: "12GiB", "512MiB", "1.5G", "4096" (budgets that may also be a
// share, "50%", are core/store/ram_budget.h's, on top of this). Binary units (K/KiB = 1024); "KB"/"MB"/"GB"/"TB" are decimal,
// as disk vendors and `df -H` use them. Case-insensitive, optional space before the unit.
#include <cstdint>
#include <string_view>

#include "core/util/status.h"

namespace moe {

/// An absolute size: a non-negative number and an optional unit (B, K, KiB, KB, M, MiB, MB, G,
/// GiB, GB, T, TiB, TB). Errors name the text and say what is accepted.
Result<uint64_t> parse_byte_size(std::string_view text);

}  // namespace moe
