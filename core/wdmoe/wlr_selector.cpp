#include "core/wdmoe/wlr_selector.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moe {

double wlr_kappa(const double* wlr, int n) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0;
  for (int j = 0; j < n; ++j) {
    lo = std::min(lo, wlr[j]);
    hi = std::max(hi, wlr[j]);
  }
  if (n <= 0 || lo == hi) return 0.5;  // equal WLRs (also all 0 or all +inf)
  if (std::isinf(hi)) return 0;        // a zero-latency expert dwarfs every other
  return lo / (lo + hi);
}

WlrSelector::WlrSelector(std::shared_ptr<LatencySource> source) : source_(std::move(source)) {
  MOE_CHECK(source_ != nullptr, "WlrSelector needs a latency source");
}

bool WlrSelector::select(const SelectionInput& in, ExpertSelection& out, SelectionEvent* event) {
  top_k_softmax(in.logits, in.k, out);  // Algorithm 1 lines 2-3: ranked by gate weight
  const bool apply_theta = in.theta > 0;
  if (!apply_theta && event == nullptr) return false;  // θ = 0: plain top-k, nothing to report

  const TokenTime at{in.step, in.pos};
  int n = out.n;
  for (int j = 0; j < n; ++j) {
    t_[j] = source_->expert_latency_s(at, in.layer, out.experts[j]);
    // WLR (eq. 9); t is clamped away from 0 so a free expert has a huge but finite WLR.
    wlr_[j] = static_cast<double>(out.weights[j]) / std::max(t_[j], 1e-15);
  }
  float kappa = static_cast<float>(wlr_kappa(wlr_.data(), n));
  int n_dropped = 0;
  std::array<int16_t, kMaxEventK> dropped{};
  // Algorithm 1 lines 4-8, repeated while κ < θ (κ exactly θ keeps the set).
  while (apply_theta && n > 1 && kappa < in.theta) {
    int worst = 0;
    for (int j = 1; j < n; ++j)
      if (wlr_[j] <= wlr_[worst]) worst = j;  // ties: the lower-ranked one goes
    dropped[n_dropped++] = static_cast<int16_t>(out.experts[worst]);
    for (int j = worst; j + 1 < n; ++j) {
      out.experts[j] = out.experts[j + 1];
      t_[j] = t_[j + 1];
      wlr_[j] = wlr_[j + 1];
    }
    --n;
    kappa = static_cast<float>(wlr_kappa(wlr_.data(), n));
  }
  if (n_dropped > 0) {
    // Line 9: softmax over the kept experts' gate logits (max-subtracted, as top_k_softmax).
    out.n = n;
    float max_logit = in.logits[out.experts[0]];
    for (int j = 1; j < n; ++j) max_logit = std::max(max_logit, in.logits[out.experts[j]]);
    float sum = 0;
    for (int j = 0; j < n; ++j) {
      out.weights[j] = std::exp(in.logits[out.experts[j]] - max_logit);
      sum += out.weights[j];
    }
    for (int j = 0; j < n; ++j) out.weights[j] /= sum;
    for (int j = n; j < kMaxExpertsUsed; ++j) out.weights[j] = 0;
  }
  if (event == nullptr) return false;
  event->step = in.step;
  event->pos = in.pos;
  event->layer = static_cast<int16_t>(in.layer);
  event->theta = in.theta;
  event->kappa = kappa;
  event->n_kept = static_cast<int16_t>(n);
  event->n_dropped = static_cast<int16_t>(n_dropped);
  event->token_latency_s = 0;
  for (int j = 0; j < kMaxEventK; ++j) {
    event->kept[j] = j < n ? static_cast<int16_t>(out.experts[j]) : int16_t{-1};
    event->kept_latency_s[j] = j < n ? static_cast<float>(t_[j]) : 0.f;
    event->dropped[j] = j < n_dropped ? dropped[j] : int16_t{-1};
  }
  double worst_t = 0;
  for (int j = 0; j < n; ++j) worst_t = std::max(worst_t, t_[j]);  // eq. 7
  event->token_latency_s = static_cast<float>(worst_t);
  return true;
}

}  // namespace moe
