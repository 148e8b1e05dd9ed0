#include "core/wdmoe/channel_model.h"

#include <cmath>

namespace moe::wdmoe {

double path_loss_db(double distance_m, double carrier_ghz) {
  return 32.4 + 20 * std::log10(carrier_ghz) + 20 * std::log10(distance_m);
}

double mean_power_gain(double distance_m, double carrier_ghz) {
  return std::pow(10.0, -path_loss_db(distance_m, carrier_ghz) / 10);
}

double noise_psd(double temperature_k) {
  return kBoltzmann * temperature_k;
}

double shannon_rate(double bandwidth_hz, double power_w, double gain, double n0) {
  if (!(bandwidth_hz > 0)) return 0;
  return bandwidth_hz * std::log2(1 + power_w * gain / (n0 * bandwidth_hz));
}

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

double fading_draw(uint64_t seed, uint64_t slot, int device, int direction) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ slot);
  h = splitmix64(h ^ (static_cast<uint64_t>(device) << 1 | static_cast<uint64_t>(direction & 1)));
  // u in (0, 1]: 53 random bits, never 0, so -log(u) is finite.
  const double u = (static_cast<double>(h >> 11) + 1.0) * 0x1.0p-53;
  return -std::log(u);
}

ChannelModel::ChannelModel(const Scenario& s)
    : seed_(s.seed), n0_(noise_psd(s.noise_temperature_k)), bs_power_w_(s.bs_power_w) {
  for (const DeviceSpec& d : s.devices) {
    mean_gain_.push_back(mean_power_gain(d.distance_m, s.carrier_ghz));
    power_w_.push_back(d.power_w);
    bandwidth_.push_back(d.bandwidth_hz);
  }
}

LinkState ChannelModel::link(int q, double fading_down, double fading_up) const {
  LinkState l;
  l.gain_down = mean_gain_[q] * fading_down;
  l.gain_up = mean_gain_[q] * fading_up;
  const double noise = n0_ * bandwidth_[q];
  l.snr_down = noise > 0 ? bs_power_w_ * l.gain_down / noise : 0;
  l.snr_up = noise > 0 ? power_w_[q] * l.gain_up / noise : 0;
  l.rate_down = shannon_rate(bandwidth_[q], bs_power_w_, l.gain_down, n0_);  // eq. 2
  l.rate_up = shannon_rate(bandwidth_[q], power_w_[q], l.gain_up, n0_);      // eq. 3
  return l;
}

void ChannelModel::links_at(uint64_t slot, std::vector<LinkState>& out) const {
  out.resize(mean_gain_.size());
  for (int q = 0; q < n_devices(); ++q)
    out[q] = link(q, fading_draw(seed_, slot, q, 0), fading_draw(seed_, slot, q, 1));
}

void ChannelModel::mean_links(std::vector<LinkState>& out) const {
  out.resize(mean_gain_.size());
  for (int q = 0; q < n_devices(); ++q) out[q] = link(q, 1.0, 1.0);
}

void ChannelModel::set_bandwidth(const std::vector<double>& bandwidth_hz) {
  MOE_CHECK(bandwidth_hz.size() == bandwidth_.size(), "one bandwidth share per device");
  bandwidth_ = bandwidth_hz;
}

}  // namespace moe::wdmoe
