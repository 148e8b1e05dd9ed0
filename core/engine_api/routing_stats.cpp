#include "core/engine_api/routing_stats.h"

#include <cmath>

namespace moe {

void RoutingStats::add(const RoutingEvent& e) { add(e.layer, e.chosen.data(), e.n_chosen); }

void RoutingStats::add(int layer, const int16_t* chosen, int n_chosen) {
  if (layer < 0) return;
  if (static_cast<size_t>(layer) >= counts_.size()) counts_.resize(static_cast<size_t>(layer) + 1);
  auto& row = counts_[static_cast<size_t>(layer)];
  for (int i = 0; i < n_chosen; ++i) {
    const int e = chosen[i];
    if (e < 0) continue;
    if (static_cast<size_t>(e) >= row.size()) row.resize(static_cast<size_t>(e) + 1);
    ++row[static_cast<size_t>(e)];
  }
}

uint64_t RoutingStats::selections(int layer) const {
  uint64_t n = 0;
  if (layer >= 0 && layer < n_layer()) {
    for (uint64_t c : counts_[static_cast<size_t>(layer)]) n += c;
  }
  return n;
}

double routing_entropy_bits(std::span<const uint64_t> counts) {
  double total = 0;
  for (const uint64_t c : counts) total += static_cast<double>(c);
  if (total <= 0) return 0;
  double h = 0;
  for (const uint64_t c : counts) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / total;
    h -= p * std::log2(p);
  }
  return h;
}

double RoutingStats::entropy_bits(int layer) const {
  if (layer < 0 || layer >= n_layer()) return 0;
  return routing_entropy_bits(counts_[static_cast<size_t>(layer)]);
}

int RoutingStats::distinct_experts(int layer) const {
  int d = 0;
  if (layer >= 0 && layer < n_layer()) {
    for (uint64_t c : counts_[static_cast<size_t>(layer)]) d += c > 0;
  }
  return d;
}

double RoutingStats::mean_entropy_bits() const {
  double sum = 0;
  int n = 0;
  for (int l = 0; l < n_layer(); ++l) {
    if (selections(l) == 0) continue;
    sum += entropy_bits(l);
    ++n;
  }
  return n > 0 ? sum / n : 0;
}

double RoutingStats::mean_distinct_experts() const {
  double sum = 0;
  int n = 0;
  for (int l = 0; l < n_layer(); ++l) {
    if (selections(l) == 0) continue;
    sum += distinct_experts(l);
    ++n;
  }
  return n > 0 ? sum / n : 0;
}

}  // namespace moe
