#pragma once
// The wireless link between the BS and each expert device (WDMoE [P2] §II-C, §IV-A; design §3.2).
//
//   PL(d) [dB]  = 32.4 + 20 log10(f_GHz) + 20 log10(d_m)
//   g^2         = 10^(-PL/10) · X,  X ~ Exp(1)  (Rayleigh fading, redrawn per time slot)
//   N0          = k T  [W/Hz]
//   R^d_q       = B_q log2(1 + P^d g^2_{BS,q} / (N0 B_q))      (eq. 2)
//   R^u_q       = B_q log2(1 + P^u_q g^2_{q,BS} / (N0 B_q))    (eq. 3)
//
// Reading of "Rayleigh fading with a mean 10^(-PL/20)": the amplitude scale is 10^(-PL/20), i.e.
// the power gain |h|^2 is exponential with mean 10^(-PL/10), so the average gain equals the path
// loss (the usual convention). Downlink and uplink fade independently (FDD; the paper writes two
// gains g_{BS,q}, g_{q,BS}). Fading is a pure function of (seed, slot, device, direction): the
// same slot always gives the same channel, whatever order it is asked in.
#include <cstdint>
#include <vector>

#include "core/wdmoe/scenario.h"

namespace moe::wdmoe {

constexpr double kBoltzmann = 1.380649e-23;  ///< J/K

/// Free-space-like path loss of the paper, dB.
double path_loss_db(double distance_m, double carrier_ghz);
/// Linear mean power gain 10^(-PL/10).
double mean_power_gain(double distance_m, double carrier_ghz);
/// N0 = k T, W/Hz.
double noise_psd(double temperature_k);
/// Shannon rate B log2(1 + P g / (N0 B)), bit/s. 0 when bandwidth is 0.
double shannon_rate(double bandwidth_hz, double power_w, double gain, double n0);
/// Exp(1) draw for (seed, slot, device, direction) (splitmix64 counter hash).
double fading_draw(uint64_t seed, uint64_t slot, int device, int direction);

/// One device's link in one time slot.
struct LinkState {
  double gain_down = 0, gain_up = 0;  ///< g^2 including fading
  double snr_down = 0, snr_up = 0;    ///< linear
  double rate_down = 0, rate_up = 0;  ///< bit/s
};

/// Link states of all devices of a scenario. Bandwidth shares may be changed (allocator).
class ChannelModel {
 public:
  explicit ChannelModel(const Scenario& s);

  /// Links in time slot `slot` (fading drawn for that slot).
  void links_at(uint64_t slot, std::vector<LinkState>& out) const;
  /// Links with the mean gain (no fading): the planner's expected channel.
  void mean_links(std::vector<LinkState>& out) const;
  LinkState link(int device, double fading_down, double fading_up) const;

  void set_bandwidth(const std::vector<double>& bandwidth_hz);
  const std::vector<double>& bandwidth() const { return bandwidth_; }
  int n_devices() const { return static_cast<int>(mean_gain_.size()); }
  double n0() const { return n0_; }

 private:
  uint64_t seed_;
  double n0_, bs_power_w_;
  std::vector<double> mean_gain_, power_w_, bandwidth_;
};

}  // namespace moe::wdmoe
