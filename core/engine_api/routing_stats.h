#pragma once
// How spread the routing of a run is: per MoE layer, the share of selections each expert got,
// its entropy in bits (log2 n_expert = perfectly uniform, log2 k = always the same k experts),
// and the number of distinct experts used. Benchmarks report it beside every figure, because
// cache hit rates and decode speed depend on it (a random-weight model fed its own greedy
// output collapses onto one expert pair per layer).
#include <cstdint>
#include <span>
#include <vector>

#include "core/engine_api/events.h"

namespace moe {

/// Shannon entropy of the distribution `counts` describes, in bits (0 for no counts).
double routing_entropy_bits(std::span<const uint64_t> counts);

class RoutingStats {
 public:
  /// Counts the chosen experts of one token at one layer.
  void add(const RoutingEvent& e);
  /// Same, from ids (offline traces).
  void add(int layer, const int16_t* chosen, int n_chosen);

  int n_layer() const { return static_cast<int>(counts_.size()); }
  uint64_t selections(int layer) const;
  /// Entropy in bits of layer `layer`'s expert-usage distribution (0 when it saw nothing).
  double entropy_bits(int layer) const;
  int distinct_experts(int layer) const;
  /// Means over the layers that saw selections (0 when none did).
  double mean_entropy_bits() const;
  double mean_distinct_experts() const;

 private:
  std::vector<std::vector<uint64_t>> counts_;  // [layer][expert]
};

}  // namespace moe
