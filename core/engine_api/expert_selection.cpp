#include "core/engine_api/expert_selection.h"

#include <algorithm>
#include <cmath>

namespace moe {

void top_k_softmax(std::span<const float> logits, int k, ExpertSelection& out) {
  const int n = static_cast<int>(logits.size());
  k = std::clamp(k, 1, std::min(n, kMaxExpertsUsed));
  out.n = 0;
  // Insertion into a sorted prefix: n is small (8..64), k tiny; stable on ties (lower index
  // first) because a later element must be strictly greater to move ahead.
  for (int e = 0; e < n; ++e) {
    const float v = logits[e];
    int pos = out.n;
    while (pos > 0 && v > logits[out.experts[pos - 1]]) --pos;
    if (pos >= k) continue;
    const int last = std::min(out.n, k - 1);
    for (int j = last; j > pos; --j) out.experts[j] = out.experts[j - 1];
    out.experts[pos] = e;
    out.n = std::min(out.n + 1, k);
  }
  const float max_logit = logits[out.experts[0]];
  float sum = 0;
  for (int j = 0; j < out.n; ++j) {
    out.weights[j] = std::exp(logits[out.experts[j]] - max_logit);
    sum += out.weights[j];
  }
  for (int j = 0; j < out.n; ++j) out.weights[j] /= sum;
}

bool TopKSelector::select(const SelectionInput& in, ExpertSelection& out, SelectionEvent*) {
  top_k_softmax(in.logits, in.k, out);
  return false;
}

}  // namespace moe
