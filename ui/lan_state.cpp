#include "ui/lan_state.h"

#include <algorithm>

namespace moe::ui {

namespace {
constexpr double kTqAlpha = 0.2;  // MeasuredLatencySource::Config::alpha
}  // namespace

void LanState::on_device(const DeviceEvent& e) {
  LanDevice& d = devices_[e.device];
  d.id = e.device;
  if (e.address[0] != '\0') d.address = QString::fromUtf8(e.address.data());
  if (e.identity[0] != '\0') d.identity = QString::fromUtf8(e.identity.data());
  if (e.experts_held > 0) d.experts_held = e.experts_held;
  d.insecure = e.insecure != 0;
  switch (e.kind) {
    case DeviceEvent::Kind::kJoined:
      d.state = "connected";
      break;
    case DeviceEvent::Kind::kLeft:
      d.state = "lost";
      ++d.failures;
      break;
    case DeviceEvent::Kind::kTimeout:
      d.state = "timeout";
      ++d.failures;
      break;
    case DeviceEvent::Kind::kRpc:
      d.state = "active";
      ++d.rpcs;
      d.rtt_ms = e.rtt_s * 1e3;
      d.compute_ms = e.compute_s * 1e3;
      d.bytes += e.bytes;
      if (e.tokens == 1 && e.assignments > 0) {
        const double tq_ms =
            1e3 * (std::max(0.0, e.rtt_s - e.compute_s) + e.compute_s / e.assignments);
        d.measured_tq_ms = d.tq_samples++ == 0
                               ? tq_ms
                               : d.measured_tq_ms + kTqAlpha * (tq_ms - d.measured_tq_ms);
      }
      tick_bytes_[e.device] += e.bytes;
      break;
  }
}

void LanState::tick(double now_s) {
  for (auto& [id, d] : devices_) {
    std::deque<Traffic>& t = traffic_[id];
    t.push_back({now_s, tick_bytes_[id]});
    while (!t.empty() && t.front().t <= now_s - 1.0) t.pop_front();
    uint64_t bytes = 0;
    for (const Traffic& x : t) bytes += x.bytes;
    d.bytes_per_s = static_cast<double>(bytes);  // the last second's
  }
  tick_bytes_.clear();
}

}  // namespace moe::ui
