#pragma once
// Tier-aware expert latency (design §3.1 with WDMoE Algorithm 1): the t_q the θ rule weighs an
// expert's gate weight against is the predicted time to use expert q *where it lives now* —
// compute only when its weights are resident in the fast tier, a disk read (the offloading
// paper's l_dc = w / s_dc, eq. 6) plus compute when they are not, and the RAM -> VRAM copy
// (l_cg = w / s_cg, eq. 5) when the compute tier is VRAM and the expert sits in RAM. So at
// θ > 0 a low-weight expert that would need a disk read can be left out, and θ = 0 (plain
// top-k) stays exact. No other engine offers this trade.
#include <functional>

#include "core/engine_api/placement.h"
#include "core/wdmoe/latency_source.h"

namespace moe {

/// Where (layer, expert) lives now; asked on the engine thread for every kept candidate, so it
/// must be cheap and must not allocate (the tiered store answers from its residency table).
using TierOf = std::function<Tier(int layer, int expert)>;

struct TierLatencyModel {
  double expert_bytes = 0;  ///< w: bytes of one expert's gate/up/down
  double s_dc = 0;          ///< disk -> RAM, bytes/s (moe-cli calibrate)
  double s_cg = 0;          ///< RAM -> VRAM, bytes/s (0: no VRAM tier)
  double compute_s = 0;     ///< one token through one resident expert
  Tier compute_tier = Tier::kRam;  ///< where experts are computed (RAM: the CPU)

  /// Predicted seconds for one token through an expert kept in `tier` (+inf for a disk read
  /// with s_dc unknown, so the θ rule drops such experts first).
  double latency_s(Tier tier) const;
};

class TierLatencySource final : public LatencySource {
 public:
  /// `measured_s_dc` (optional): the store's measured disk read rate, used instead of
  /// model.s_dc once it returns > 0.
  TierLatencySource(TierLatencyModel model, TierOf tier_of,
                    std::function<double()> measured_s_dc = {});
  double expert_latency_s(const TokenTime& at, int layer, int expert) override;
  const char* name() const override { return "tier"; }
  const TierLatencyModel& model() const { return model_; }

 private:
  TierLatencyModel model_;
  TierOf tier_of_;
  std::function<double()> measured_s_dc_;
};

}  // namespace moe
