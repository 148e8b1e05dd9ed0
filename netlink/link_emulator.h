#pragma once
// The WDMoE paper's wireless link, run for real on a LAN or loopback (`moe-node --emulate-link
// SCENARIO.json:DEVICE`): each expert reply is held for the time its bytes would take over that
// scenario device's modelled channel — the request's bytes on the downlink (BS -> device, rate
// of eq. 2), the reply's on the uplink (eq. 3), with Rayleigh fading redrawn per request as the
// simulator does per slot — plus a retransmission for every attempt lost to the channel: an
// attempt whose instantaneous SNR falls below `outage_snr_db` is lost and sent again in the next
// slot (our model of loss; the paper has none). The host then measures these delays as real
// round trips, so --lan-theta trades the paper's latencies on real sockets.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/util/status.h"
#include "core/wdmoe/channel_model.h"
#include "core/wdmoe/scenario.h"

namespace moe::net {

struct LinkEmulatorStats {
  uint64_t requests = 0, lost_attempts = 0;
  double held_s = 0;  ///< total time replies were held
};

class LinkEmulator {
 public:
  /// "FILE:DEVICE" (DEVICE: the device's name in the scenario or its index); errors name the
  /// part that is wrong.
  static Result<std::unique_ptr<LinkEmulator>> from_spec(const std::string& spec);
  LinkEmulator(wdmoe::Scenario scenario, int device);

  /// How long to hold a reply of `reply_bytes` to a request of `request_bytes`. Thread-safe.
  std::chrono::nanoseconds delay(size_t request_bytes, size_t reply_bytes);
  /// The delay of the same exchange over the mean channel (no fading, no loss): the modelled t
  /// the dashboard compares with the measured one.
  double mean_delay_s(size_t request_bytes, size_t reply_bytes) const;

  const std::string& device_name() const { return scenario_.devices[device_].name; }
  LinkEmulatorStats stats() const;

  static constexpr double outage_snr_db = 0;
  static constexpr int max_attempts = 8;  ///< then the reply goes anyway (TCP would keep trying)

 private:
  wdmoe::Scenario scenario_;
  int device_;
  wdmoe::ChannelModel channel_;
  std::atomic<uint64_t> slot_{0}, requests_{0}, lost_{0}, held_ns_{0};
};

}  // namespace moe::net
