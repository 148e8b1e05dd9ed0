#pragma once
// WDMoE expert selection (WDMoE [P2] §III, Algorithm 1; design §3.2):
//   take the top-k experts by gate weight; WLR_q = w_q / t_q (eq. 9);
//   κ = min WLR / (min WLR + max WLR) over the current set (eq. 10);
//   while κ < θ and more than one expert remains, drop the lowest-WLR expert and recompute;
//   the kept experts' weights are the softmax over their gate logits.
//
// Readings (docs/wdmoe.md): w is the router softmax over all experts as in the paper's gating;
// κ is invariant to a common scale of w, so the top-k-renormalised weights give the same
// decisions. The text says "κ ≤ θ", Algorithm 1 says "κ < θ": we follow Algorithm 1, so κ
// exactly at θ keeps the set. κ is rounded to float (θ's precision) before comparing. Ties in
// WLR drop the lower-ranked expert (lower gate weight, then higher index). θ <= 0 is plain
// top-k, bit for bit.
#include <array>
#include <memory>

#include "core/engine_api/expert_selection.h"
#include "core/wdmoe/latency_source.h"

namespace moe {

class WlrSelector final : public ExpertSelector {
 public:
  explicit WlrSelector(std::shared_ptr<LatencySource> source);
  /// Always fills `event` when given (also for θ = 0: κ and latencies of plain top-k).
  bool select(const SelectionInput& in, ExpertSelection& out, SelectionEvent* event) override;
  const char* name() const override { return "wdmoe-wlr"; }
  LatencySource& source() { return *source_; }

 private:
  std::shared_ptr<LatencySource> source_;
  std::array<double, kMaxExpertsUsed> t_{}, wlr_{};  // scratch: no allocation per call
};

/// κ of eq. 10 for WLR values (min / (min + max)); 0.5 when all are equal (incl. all zero).
double wlr_kappa(const double* wlr, int n);

}  // namespace moe
