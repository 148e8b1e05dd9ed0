#include "core/wdmoe/tier_latency_source.h"

#include <limits>

namespace moe {

double TierLatencyModel::latency_s(Tier tier) const {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double t = compute_s;
  if (tier == Tier::kDisk) t += s_dc > 0 ? expert_bytes / s_dc : kInf;  // l_dc (eq. 6)
  // Computed in VRAM: an expert not there is copied up first (l_cg, eq. 5; eq. 7 from disk).
  if (compute_tier == Tier::kVram && tier != Tier::kVram) {
    t += s_cg > 0 ? expert_bytes / s_cg : kInf;
  }
  return t;
}

TierLatencySource::TierLatencySource(TierLatencyModel model, TierOf tier_of,
                                     std::function<double()> measured_s_dc)
    : model_(model), tier_of_(std::move(tier_of)), measured_s_dc_(std::move(measured_s_dc)) {}

double TierLatencySource::expert_latency_s(const TokenTime&, int layer, int expert) {
  const Tier t = tier_of_ ? tier_of_(layer, expert) : Tier::kRam;
  if (t == model_.compute_tier) return model_.compute_s;
  TierLatencyModel m = model_;
  if (measured_s_dc_) {
    const double rate = measured_s_dc_();
    if (rate > 0) m.s_dc = rate;
  }
  return m.latency_s(t);
}

}  // namespace moe
