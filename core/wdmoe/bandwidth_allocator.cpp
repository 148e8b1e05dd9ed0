#include "core/wdmoe/bandwidth_allocator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace moe::wdmoe {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// r(B) = B log2(1 + γ/B), γ = P g / N0 (eqs. 2-3), and dr/dB.
double rate(double bw, double gamma) {
  return bw * std::log2(1 + gamma / bw);
}
double rate_derivative(double bw, double gamma) {
  const double x = gamma / bw;
  return std::log2(1 + x) - x / ((1 + x) * std::log(2.0));
}
}  // namespace

std::vector<double> equal_split(double total_hz, int n_devices) {
  if (n_devices <= 0) return {};
  return std::vector<double>(static_cast<size_t>(n_devices), total_hz / n_devices);
}

BandwidthAllocator::BandwidthAllocator(const Scenario& s)
    : total_hz_(s.total_bandwidth_hz),
      n0_(noise_psd(s.noise_temperature_k)),
      bs_power_w_(s.bs_power_w),
      bits_(8 * comm_bytes(s.model)),
      flops_(expert_flops(s.model)) {
  for (const DeviceSpec& d : s.devices) {
    gain_.push_back(mean_power_gain(d.distance_m, s.carrier_ghz));
    power_w_.push_back(d.power_w);
    device_flops_.push_back(d.flops);
  }
}

double BandwidthAllocator::mean_latency(int q, double bw) const {
  if (!(bw > 0)) return kInf;
  const double rd = rate(bw, bs_power_w_ * gain_[q] / n0_);
  const double ru = rate(bw, power_w_[q] * gain_[q] / n0_);
  return bits_ / rd + flops_ / device_flops_[q] + bits_ / ru;
}

double BandwidthAllocator::marginal(int q, double bw, double f, double p) const {
  const double gd = bs_power_w_ * gain_[q] / n0_, gu = power_w_[q] * gain_[q] / n0_;
  const double rd = rate(bw, gd), ru = rate(bw, gu);
  // -dt/dB = bits (r_d'/r_d² + r_u'/r_u²)
  const double neg_dt =
      bits_ * (rate_derivative(bw, gd) / (rd * rd) + rate_derivative(bw, gu) / (ru * ru));
  return f * p * std::pow(mean_latency(q, bw), p - 1) * neg_dt;
}

double BandwidthAllocator::objective(std::span<const double> bw, std::span<const double> freq,
                                     double p) const {
  double num = 0, den = 0;
  for (size_t q = 0; q < gain_.size(); ++q) {
    if (!(freq[q] > 0)) continue;
    num += freq[q] * std::pow(mean_latency(static_cast<int>(q), bw[q]), p);
    den += freq[q];
  }
  return den > 0 ? std::pow(num / den, 1 / p) : 0;
}

Allocation BandwidthAllocator::optimise(std::span<const double> freq,
                                        const AllocatorConfig& cfg) const {
  const int n = static_cast<int>(gain_.size());
  MOE_CHECK(static_cast<int>(freq.size()) == n, "one routing frequency per device");
  const double p = std::max(cfg.p, 1.0);
  const double b_min = cfg.min_fraction * total_hz_ / n;
  Allocation a;
  const std::vector<double> equal = equal_split(total_hz_, n);
  a.equal_objective_s = objective(equal, freq, p);
  // B_q(λ): the bandwidth where device q's marginal gain falls to λ (marginal decreases in B).
  std::vector<double> bw(n);
  auto fill = [&](double lambda) {
    double sum = 0;
    for (int q = 0; q < n; ++q) {
      double lo = b_min, hi = total_hz_;
      if (!(freq[q] > 0) || marginal(q, lo, freq[q], p) <= lambda) {
        bw[q] = lo;
      } else if (marginal(q, hi, freq[q], p) >= lambda) {
        bw[q] = hi;
      } else {
        for (int it = 0; it < 80; ++it) {
          const double mid = 0.5 * (lo + hi);
          (marginal(q, mid, freq[q], p) > lambda ? lo : hi) = mid;
        }
        bw[q] = 0.5 * (lo + hi);
      }
      sum += bw[q];
    }
    return sum;
  };
  // Outer bisection on log λ: Σ B_q(λ) decreases as λ grows.
  double llo = -200, lhi = 200;
  for (int it = 0; it < 120; ++it) {
    const double mid = 0.5 * (llo + lhi);
    (fill(std::exp(mid)) > total_hz_ ? llo : lhi) = mid;
  }
  const double sum = fill(std::exp(0.5 * (llo + lhi)));
  for (double& b : bw) b *= total_hz_ / sum;  // conserve the total exactly
  a.objective_s = objective(bw, freq, p);
  if (!(a.objective_s <= a.equal_objective_s)) {  // never worse than the baseline
    bw = equal;
    a.objective_s = a.equal_objective_s;
  }
  a.bandwidth_hz = std::move(bw);
  a.gain = a.equal_objective_s > 0 ? 1 - a.objective_s / a.equal_objective_s : 0;
  return a;
}

double expected_max_latency(const Scenario& s, std::span<const double> bandwidth_hz,
                            std::span<const double> freq, int k, int samples, uint64_t seed) {
  Scenario sc = s;
  for (size_t q = 0; q < sc.devices.size(); ++q) sc.devices[q].bandwidth_hz = bandwidth_hz[q];
  const ChannelModel channel(sc);
  const LatencyModel model(sc);
  const int n = sc.n_devices();
  k = std::clamp(k, 1, n);
  std::vector<LinkState> links;
  std::vector<double> t, w(freq.begin(), freq.end());
  double total = 0;
  for (int i = 0; i < samples; ++i) {
    channel.links_at(static_cast<uint64_t>(i), links);  // slot i: fading of sample i
    model.device_latencies(links, t);
    // k distinct devices, drawn in proportion to freq (sequentially without replacement).
    std::vector<double> left = w;
    double worst = 0;
    for (int j = 0; j < k; ++j) {
      const double mass = std::accumulate(left.begin(), left.end(), 0.0);
      if (!(mass > 0)) break;
      double u = fading_draw(seed, static_cast<uint64_t>(i), j, 2);  // Exp(1)
      u = (1 - std::exp(-u)) * mass;                                 // uniform on [0, mass)
      int pick = -1;
      for (int q = 0; q < n; ++q) {
        if (!(left[q] > 0)) continue;
        pick = q;  // the last candidate also takes round-off at the top of the range
        if (u < left[q]) break;
        u -= left[q];
      }
      worst = std::max(worst, t[pick]);
      left[pick] = 0;
    }
    total += worst;
  }
  return samples > 0 ? total / samples : 0;
}

}  // namespace moe::wdmoe
