#pragma once
// CLI11 checks shared by the moe-cli commands, for what CLI11's own let through: a usage error
// (exit 2) before a command starts. The code that reads the value checks again (the library's
// own validate() functions, RegularFile), so the app and API callers meet the same limits.
#include <CLI/CLI.hpp>

namespace moe::cli {

/// An existing regular file. CLI::ExistingFile accepts /dev/zero (read until memory runs out)
/// and FIFOs (the open blocks for ever); this names what the path is instead.
CLI::Validator regular_file();
/// A finite number in [lo, hi] (CLI::Range lets "nan" through: every comparison with NaN is
/// false); with `lo_open`, lo itself is refused too: (lo, hi].
CLI::Validator finite_range(double lo, double hi, bool lo_open = false);

}  // namespace moe::cli
