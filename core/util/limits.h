#pragma once
// Limits on what a person (or a file) can ask for, checked before anything is allocated. Every
// front end uses these, so a command line, the app and an API caller meet the same bounds.
#include <cstdint>

namespace moe {

/// Most compute threads a pool, a deployment or the model generator accepts. More than any
/// machine we run on has cores; a mistyped -t 100000 is refused instead of exhausting the
/// process table.
inline constexpr int kMaxThreads = 1024;
/// Default limit on a text read whole for scoring (perplexity): about 16 M tokens of English.
inline constexpr uint64_t kDefaultMaxTextBytes = uint64_t{64} << 20;
/// Limit on a WDMoE scenario JSON file (a real one is a few KiB).
inline constexpr uint64_t kMaxScenarioBytes = uint64_t{1} << 20;

}  // namespace moe
