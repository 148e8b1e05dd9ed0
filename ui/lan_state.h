#pragma once
// What the "LAN devices" panel shows, aggregated on the UI thread from the remote executor's
// DeviceEvents (netlink/remote_expert_executor.h): per device its address, certificate name,
// state, experts held, last round trip and compute time, traffic over the last second,
// failures, and whether the connection is plaintext.
#include <QString>
#include <cstdint>
#include <deque>
#include <map>

#include "core/engine_api/events.h"

namespace moe::ui {

struct LanDevice {
  uint32_t id = 0;
  QString address, identity;  ///< "host:port"; the CN of its certificate
  QString state;              ///< "connected", "active", "lost", "timeout"
  uint32_t experts_held = 0;
  double rtt_ms = 0, compute_ms = 0;
  /// Measured t_q (WDMoE eq. 6: one token through one expert): over one-token requests, the
  /// network part of the round trip plus the device's compute per expert, EWMA (α = 0.2, as the
  /// measured latency source); 0 until a one-token request was answered.
  double measured_tq_ms = 0;
  uint64_t tq_samples = 0;
  uint64_t rpcs = 0, failures = 0, bytes = 0;
  double bytes_per_s = 0;  ///< request + reply bytes over the last second
  bool insecure = false;
};

class LanState {
 public:
  void reset() { *this = LanState(); }
  void on_device(const DeviceEvent& e);
  /// Once per dashboard tick, after the tick's events.
  void tick(double now_s);
  const std::map<uint32_t, LanDevice>& devices() const { return devices_; }

 private:
  struct Traffic {
    double t;
    uint64_t bytes;
  };
  std::map<uint32_t, LanDevice> devices_;
  std::map<uint32_t, uint64_t> tick_bytes_;
  std::map<uint32_t, std::deque<Traffic>> traffic_;
};

}  // namespace moe::ui
