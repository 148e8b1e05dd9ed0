#include "core/wdmoe/offload_latency_model.h"

#include <cmath>
#include <numeric>

#include "core/wdmoe/channel_model.h"

namespace moe::wdmoe {

double thermal_noise_w(double temperature_k, double bandwidth_hz) {
  return kBoltzmann * temperature_k * bandwidth_hz;
}

double channel_capacity_bps(double bandwidth_hz, double snr) {
  return bandwidth_hz * std::log2(1 + snr);
}

double propagation_delay_s(double bytes, double capacity_bps) {
  return 8 * bytes / capacity_bps;
}

double propagation_delay_paper_s(double bytes, double capacity_bps) {
  const double mb_per_s = capacity_bps / 8 / 1e6;  // "349.5 MB/s"
  return bytes / (mb_per_s * 1048576.0);           // ... divided as MiB/s
}

double improvement(double original, double improved) {
  return (original - improved) / original;
}

double total_latency(std::span<const double> l_loc, std::span<const double> l_com_chain,
                     double l_com_in, double l_com_out) {
  return std::accumulate(l_loc.begin(), l_loc.end(), 0.0) +
         std::accumulate(l_com_chain.begin(), l_com_chain.end(), 0.0) + l_com_in + l_com_out;
}

double total_latency_uniform(int n_devices, double l_loc, double l_com) {
  return n_devices * l_loc + (n_devices + 1) * l_com;
}

}  // namespace moe::wdmoe
