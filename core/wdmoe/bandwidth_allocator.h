#pragma once
// Bandwidth allocation across expert devices (design §3.2, follow-up [P3]: "jointly optimize
// expert selection and bandwidth allocation"). Baseline: equal split. Optimiser: minimise the
// surrogate
//     J_p(B) = ( Σ_q f_q t_q(B_q)^p / Σ_q f_q )^(1/p),      Σ_q B_q = B,  B_q >= B_min
// where f_q is the observed routing frequency of device q and t_q(B_q) is eq. 6 on the mean
// channel (fading averaged out). p = 1 is the routing-weighted mean latency; p -> ∞ tends to
// the max over the used devices, an upper bound of E[max_q t_q] (eq. 7). t_q is convex and
// decreasing in B_q, so J_p^p is convex and the KKT point f_q p t_q^(p-1) (-t_q') = λ is found
// by bisection on λ (outer) and on each B_q (inner): water-filling on a common marginal gain.
#include <cstdint>
#include <span>
#include <vector>

#include "core/wdmoe/latency_model.h"

namespace moe::wdmoe {

struct AllocatorConfig {
  double p = 8;                ///< power of the surrogate (>= 1)
  double min_fraction = 1e-3;  ///< B_min = min_fraction · B / n_devices
};

struct Allocation {
  std::vector<double> bandwidth_hz;  ///< per device, sums to the total
  double objective_s = 0;            ///< J_p of this allocation
  double equal_objective_s = 0;      ///< J_p of the equal split
  double gain = 0;                   ///< 1 - objective / equal_objective (>= 0)
};

std::vector<double> equal_split(double total_hz, int n_devices);

class BandwidthAllocator {
 public:
  explicit BandwidthAllocator(const Scenario& s);
  /// t_q(B) on the mean channel (eq. 6), seconds.
  double mean_latency(int q, double bandwidth_hz) const;
  /// J_p for a given split and routing frequencies.
  double objective(std::span<const double> bandwidth_hz, std::span<const double> freq,
                   double p) const;
  /// The optimum of J_p given per-device routing frequencies (any non-negative scale).
  Allocation optimise(std::span<const double> freq, const AllocatorConfig& cfg = {}) const;

 private:
  double marginal(int q, double bw, double f, double p) const;  // f p t^(p-1) (-dt/dB)

  double total_hz_, n0_, bs_power_w_, bits_, flops_;
  std::vector<double> gain_, power_w_, device_flops_;
};

/// Monte Carlo E[max over the k experts of a token of t_q] (eq. 7) under Rayleigh fading, with
/// each token's k distinct devices drawn in proportion to `freq`. Common random numbers for a
/// given seed, so two splits compare fairly.
double expected_max_latency(const Scenario& s, std::span<const double> bandwidth_hz,
                            std::span<const double> freq, int k, int samples, uint64_t seed);

}  // namespace moe::wdmoe
