#include "core/wdmoe/latency_source.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace moe {

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

// The fastest device holding the expert; +inf when none can serve it.
template <class F>
double min_over_replicas(const Placement& placement, int layer, int expert, F&& t_of) {
  double best = kInf;
  for (int q : placement.devices(layer, expert)) best = std::min(best, t_of(q));
  return best;
}
}  // namespace

SimulatedLatencySource::SimulatedLatencySource(wdmoe::Scenario s)
    : scenario_(std::move(s)),
      channel_(scenario_),
      model_(scenario_),
      placement_(scenario_.expert_placement()) {
  links_.resize(scenario_.devices.size());
  t_.resize(scenario_.devices.size());
}

uint64_t SimulatedLatencySource::slot_of(const TokenTime& at) const {
  const uint64_t pos = static_cast<uint64_t>(std::max<int32_t>(at.pos, 0));
  return (epoch_ << 40) ^ (pos / static_cast<uint64_t>(scenario_.tokens_per_slot));
}

void SimulatedLatencySource::refresh(uint64_t slot) {
  if (have_slot_ && slot == slot_) return;
  channel_.links_at(slot, links_);  // sized at construction: no allocation
  model_.device_latencies(links_, t_);
  slot_ = slot;
  have_slot_ = true;
}

double SimulatedLatencySource::expert_latency_s(const TokenTime& at, int layer, int expert) {
  std::lock_guard lock(mu_);
  refresh(slot_of(at));
  return min_over_replicas(placement_, layer, expert, [&](int q) {
    return q >= 0 && q < static_cast<int>(t_.size()) ? t_[static_cast<size_t>(q)] : kInf;
  });
}

void SimulatedLatencySource::advance_slot() {
  std::lock_guard lock(mu_);
  ++epoch_;
  have_slot_ = false;
}

void SimulatedLatencySource::snapshot(const TokenTime& at, std::vector<wdmoe::LinkState>& links,
                                      std::vector<double>& t) const {
  std::lock_guard lock(mu_);
  channel_.links_at(slot_of(at), links);
  model_.device_latencies(links, t);
}

void SimulatedLatencySource::set_bandwidth(const std::vector<double>& bandwidth_hz) {
  std::lock_guard lock(mu_);
  channel_.set_bandwidth(bandwidth_hz);
  for (size_t q = 0; q < bandwidth_hz.size(); ++q)
    scenario_.devices[q].bandwidth_hz = bandwidth_hz[q];
  have_slot_ = false;
}

MeasuredLatencySource::MeasuredLatencySource(int n_devices, Placement placement, Config cfg)
    : cfg_(cfg),
      n_devices_(n_devices),
      placement_(std::move(placement)),
      est_(static_cast<size_t>(std::max(n_devices, 0))) {
  for (Estimate& e : est_) e.latency_s = cfg_.prior_s;
}

bool MeasuredLatencySource::record(int device, double rtt_s, double compute_s) {
  if (!std::isfinite(rtt_s) || !std::isfinite(compute_s) || rtt_s < 0 || compute_s < 0)
    return false;
  std::lock_guard lock(mu_);  // set_placement may grow the table
  if (device < 0 || device >= n_devices_) return false;
  Estimate& e = est_[device];
  if (e.samples == 0) {
    e.rtt_s = rtt_s;
    e.compute_s = compute_s;
  } else {  // EWMA: x <- x + α (sample - x)
    e.rtt_s += cfg_.alpha * (rtt_s - e.rtt_s);
    e.compute_s += cfg_.alpha * (compute_s - e.compute_s);
  }
  ++e.samples;
  e.available = true;
  e.latency_s = e.rtt_s + e.compute_s;
  return true;
}

void MeasuredLatencySource::mark_unavailable(int device) {
  std::lock_guard lock(mu_);
  if (device < 0 || device >= n_devices_) return;
  est_[device].available = false;
  est_[device].latency_s = kInf;
}

void MeasuredLatencySource::set_placement(Placement placement) {
  std::lock_guard lock(mu_);
  if (placement.n_devices() > n_devices_) {
    Estimate prior;
    prior.latency_s = cfg_.prior_s;
    est_.resize(static_cast<size_t>(placement.n_devices()), prior);
    n_devices_ = placement.n_devices();
  }
  placement_ = std::move(placement);
}

MeasuredLatencySource::Estimate MeasuredLatencySource::estimate(int device) const {
  std::lock_guard lock(mu_);
  if (device < 0 || device >= n_devices_) return Estimate{0, 0, 0, false, kInf};
  return est_[device];
}

double MeasuredLatencySource::expert_latency_s(const TokenTime&, int layer, int expert) {
  std::lock_guard lock(mu_);
  return min_over_replicas(placement_, layer, expert, [&](int q) {
    return q >= 0 && q < n_devices_ ? est_[q].latency_s : kInf;
  });
}

}  // namespace moe
