#pragma once
// Latency sources (design §6 "Latency source"): the predicted time t for one token through one
// expert of one MoE layer (WDMoE eq. 6), as the WLR selector needs it. The selector never knows
// which source it reads:
//   * SimulatedLatencySource — the paper's channel + compute model, fading redrawn per slot;
//   * MeasuredLatencySource  — EWMA of real per-device RTT and reported compute time (fed by
//     the LAN layer, one record() per RPC);
//   * an emulated source (real transfers delayed by the modelled channel) plugs in the same way.
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "core/engine_api/latency_sink.h"
#include "core/engine_api/placement.h"
#include "core/wdmoe/channel_model.h"
#include "core/wdmoe/latency_model.h"

namespace moe {

/// When a latency is asked for: the token's generation step and position in the context.
struct TokenTime {
  uint64_t step = 0;
  int32_t pos = 0;
};

class LatencySource {
 public:
  virtual ~LatencySource() = default;
  /// Predicted seconds for one token through `expert` of MoE layer `layer`; +inf when no
  /// device can serve it now. Called on the engine thread for every kept candidate: must not
  /// allocate.
  virtual double expert_latency_s(const TokenTime& at, int layer, int expert) = 0;
  /// Time moves on outside the token clock (e.g. a new generation): the next queries see a
  /// fresh time slot. Sources without time slots ignore it.
  virtual void advance_slot() {}
  virtual const char* name() const = 0;
};

/// The WDMoE model: t_q from the scenario's channel (fading drawn per time slot) and compute.
/// Time slot of a token = (epoch, pos / tokens_per_slot): one slot per token by default, the
/// same slot for every layer of that token, independent of the order of the queries.
class SimulatedLatencySource final : public LatencySource {
 public:
  explicit SimulatedLatencySource(wdmoe::Scenario s);
  double expert_latency_s(const TokenTime& at, int layer, int expert) override;
  void advance_slot() override;
  const char* name() const override { return "simulated"; }

  /// Per-device link state and t_q for the slot of `at` (dashboards, wdmoe-sim).
  void snapshot(const TokenTime& at, std::vector<wdmoe::LinkState>& links,
                std::vector<double>& t) const;
  /// Changes the bandwidth shares (bandwidth allocator); takes effect at once.
  void set_bandwidth(const std::vector<double>& bandwidth_hz);
  const wdmoe::Scenario& scenario() const { return scenario_; }

 private:
  uint64_t slot_of(const TokenTime& at) const;
  void refresh(uint64_t slot);  // fills t_ for `slot`; mu_ held

  wdmoe::Scenario scenario_;
  wdmoe::ChannelModel channel_;
  wdmoe::LatencyModel model_;
  Placement placement_;     // (layer, expert) -> devices
  mutable std::mutex mu_;  // the engine asks, a dashboard may snapshot
  uint64_t epoch_ = 0;
  bool have_slot_ = false;
  uint64_t slot_ = 0;
  std::vector<wdmoe::LinkState> links_;
  std::vector<double> t_;
};

/// EWMA estimator of per-device latency from real RPCs. record() may come from the network
/// thread while the engine reads; both are serialised by a mutex.
class MeasuredLatencySource final : public LatencySource, public LatencySink {
 public:
  struct Config {
    double alpha = 0.2;     ///< EWMA weight of a new sample; the first sample sets the estimate
    double prior_s = 1e-3;  ///< t of a device never measured
  };
  struct Estimate {
    double rtt_s = 0, compute_s = 0;  ///< EWMAs
    uint64_t samples = 0;
    bool available = true;
    double latency_s = 0;  ///< rtt + compute, prior when unmeasured, +inf when unavailable
  };

  /// `placement`: which devices hold each (layer, expert); Placement(n_devices) is the paper's.
  MeasuredLatencySource(int n_devices, Placement placement, Config cfg);
  MeasuredLatencySource(int n_devices, Placement placement)
      : MeasuredLatencySource(n_devices, std::move(placement), Config{}) {}

  /// One RPC: `rtt_s` = network round trip (request sent -> response received, minus the
  /// device's compute), `compute_s` = compute time the device reported. Bad samples (negative,
  /// non-finite, unknown device) are ignored and return false.
  bool record(int device, double rtt_s, double compute_s) override;
  /// A device timed out or left: +inf (dropped first by the θ rule) until its next record().
  void mark_unavailable(int device) override;
  /// Replaces the placement; grows the device table (new devices start at the prior).
  void set_placement(Placement placement) override;
  Estimate estimate(int device) const;

  double expert_latency_s(const TokenTime& at, int layer, int expert) override;
  const char* name() const override { return "measured"; }

 private:
  Config cfg_;
  int n_devices_;
  Placement placement_;
  mutable std::mutex mu_;
  std::vector<Estimate> est_;
};

}  // namespace moe
