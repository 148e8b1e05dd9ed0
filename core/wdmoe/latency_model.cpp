#include "core/wdmoe/latency_model.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace moe::wdmoe {

double expert_flops(const ModelDims& m) {
  const double h = m.hidden, hh = m.expert_hidden;
  return 4 * h * hh + 2 * hh * h + m.activation_flops * hh + hh;
}

double comm_bytes(const ModelDims& m) {
  return m.bytes_per_element * m.hidden;
}

double device_latency(double bytes, double rate_down, double rate_up, double flops,
                      double device_flops) {
  if (!(rate_down > 0) || !(rate_up > 0) || !(device_flops > 0))
    return std::numeric_limits<double>::infinity();
  const double bits = 8 * bytes;
  return bits / rate_down + flops / device_flops + bits / rate_up;
}

double token_layer_latency(std::span<const double> t) {
  double m = 0;
  for (double v : t) m = std::max(m, v);
  return m;
}

double prompt_latency(std::span<const double> token_layer_latencies) {
  return std::accumulate(token_layer_latencies.begin(), token_layer_latencies.end(), 0.0);
}

LatencyModel::LatencyModel(const Scenario& s)
    : flops_(expert_flops(s.model)), bytes_(comm_bytes(s.model)) {
  for (const DeviceSpec& d : s.devices) device_flops_.push_back(d.flops);
}

double LatencyModel::device_latency(int q, const LinkState& l) const {
  return wdmoe::device_latency(bytes_, l.rate_down, l.rate_up, flops_, device_flops_[q]);
}

void LatencyModel::device_latencies(const std::vector<LinkState>& links,
                                    std::vector<double>& t) const {
  t.resize(links.size());
  for (size_t q = 0; q < links.size(); ++q) t[q] = device_latency(static_cast<int>(q), links[q]);
}

}  // namespace moe::wdmoe
