#pragma once
// Wraps a selector and accumulates what WDMoE simulation reports (wdmoe-sim, dashboards):
// per token position, the modelled latency summed over layers (eq. 7 per layer, eq. 8 over
// layers) and the experts used. Sized once for n_ctx positions: no allocation per call. One
// caller thread, like every selector.
#include <cstdint>
#include <vector>

#include "core/engine_api/expert_selection.h"

namespace moe {

class RecordingSelector final : public ExpertSelector {
 public:
  RecordingSelector(ExpertSelector& inner, int n_ctx);
  bool select(const SelectionInput& in, ExpertSelection& out, SelectionEvent* event) override;
  const char* name() const override { return inner_.name(); }

  void clear();
  /// Σ over layers of the token's latency at position pos (0 if never selected).
  double token_latency_s(int pos) const;
  uint64_t selections() const { return selections_; }  ///< (token, layer) decisions
  uint64_t experts_used() const { return experts_used_; }
  uint64_t experts_dropped() const { return experts_dropped_; }
  /// Mean experts per (token, layer).
  double mean_experts() const;

 private:
  ExpertSelector& inner_;
  std::vector<double> latency_;  // [n_ctx]
  uint64_t selections_ = 0, experts_used_ = 0, experts_dropped_ = 0;
};

}  // namespace moe
