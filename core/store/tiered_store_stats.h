#pragma once
// Statistics of the tiered expert store (tiered_expert_store.h), apart from it so that front
// ends can read them without the cache-policy header (whose `slots` clashes with Qt's macro).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace moe {

/// Load latency histogram: bucket i counts loads of [2^i, 2^(i+1)) microseconds (bucket 0 also
/// takes anything shorter, the last anything longer).
constexpr int kLatencyBuckets = 24;

struct ExpertStats {
  uint64_t hits = 0, misses = 0;
  uint64_t prefetch_issued = 0, prefetch_used = 0, prefetch_wasted = 0;
  uint64_t bytes_read = 0;  ///< disk -> RAM (aligned read sizes)
};

/// Where one expert is in a stats() snapshot.
enum class ExpertResidency : uint8_t {
  kDisk,     ///< only in the file
  kLoading,  ///< a read is queued or in flight
  kRam,      ///< in a RAM slot
  kPinned,   ///< in a RAM slot the policy keeps fixed (pinned, hybrid's core)
};

/// A consistent snapshot of the tiered store (one lock).
struct TieredStoreStats {
  uint64_t budget_bytes = 0;
  uint64_t held_bytes = 0;    ///< slot buffers allocated (see the accounting note above)
  uint64_t in_use_bytes = 0;  ///< buffers of experts acquired and not yet released
  uint64_t peak_held_bytes = 0;
  uint64_t all_experts_bytes = 0;  ///< slot bytes of every expert (what 100 % means)
  uint64_t min_budget_bytes = 0;
  int n_layer = 0, n_expert = 0;
  std::vector<int> layer_slots;      ///< [layer] slots per layer
  std::vector<int> n_resident;       ///< [layer] resident or loading
  std::vector<ExpertStats> experts;  ///< [layer * n_expert + expert]
  std::vector<ExpertResidency> residency;  ///< [layer * n_expert + expert]
  /// "lru", "lfu", "pinned", "hybrid", "none"; with auto the planner's choice ("pinned",
  /// "hybrid(25%)", "per layer: lfu x10, pinned x6")
  std::string policy;
  std::string policy_reason;  ///< why that policy ("as asked", the planner's hit rates, ...)
  ExpertStats total;
  uint64_t prefetch_pending = 0;  ///< issued, not yet used or wasted
  /// Guesses per prefetch() call now (0 with prefetch off, or when guesses have been wrong
  /// too often: prefetch_depth.h), the most allowed, and how often it changed.
  int prefetch_depth = 0, prefetch_depth_max = 0, prefetch_depth_changes = 0;
  uint64_t transient_loads = 0;   ///< demand loads beyond the layer's slots (freed at release)
  uint64_t evictions = 0;
  std::array<uint64_t, kLatencyBuckets> load_latency_us_log2{};
  double load_seconds = 0;  ///< sum over loads
  uint64_t loads = 0;
  double hit_rate() const;
  double prefetch_accuracy() const;  ///< used / issued (0 when none issued)
};

}  // namespace moe
