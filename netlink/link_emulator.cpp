#include "netlink/link_emulator.h"

#include <cmath>
#include <cstdlib>

namespace moe::net {

Result<std::unique_ptr<LinkEmulator>> LinkEmulator::from_spec(const std::string& spec) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) {
    return make_error("--emulate-link '", spec, "': expected SCENARIO.json:DEVICE");
  }
  const std::string file = spec.substr(0, colon), device = spec.substr(colon + 1);
  auto scenario = wdmoe::load_scenario_file(file);
  if (!scenario.ok()) return make_error("--emulate-link: ", scenario.message());
  for (int q = 0; q < scenario->n_devices(); ++q) {
    if (scenario->devices[static_cast<size_t>(q)].name == device) {
      return std::make_unique<LinkEmulator>(std::move(*scenario), q);
    }
  }
  char* end = nullptr;
  const long q = std::strtol(device.c_str(), &end, 10);
  if (*end == '\0' && q >= 0 && q < scenario->n_devices()) {
    return std::make_unique<LinkEmulator>(std::move(*scenario), static_cast<int>(q));
  }
  std::string names;
  for (const auto& d : scenario->devices) names += (names.empty() ? "" : ", ") + d.name;
  return make_error("--emulate-link: no device '", device, "' in ", file, " (devices: ", names,
                    "; or an index 0-", std::to_string(scenario->n_devices() - 1), ")");
}

LinkEmulator::LinkEmulator(wdmoe::Scenario scenario, int device)
    : scenario_(std::move(scenario)), device_(device), channel_(scenario_) {}

std::chrono::nanoseconds LinkEmulator::delay(size_t request_bytes, size_t reply_bytes) {
  const double outage = std::pow(10.0, outage_snr_db / 10);
  const double bits_down = 8.0 * static_cast<double>(request_bytes);
  const double bits_up = 8.0 * static_cast<double>(reply_bytes);
  double t = 0;
  // One direction: attempts until one gets through (or max_attempts), each in its own slot.
  const auto send = [&](double bits, bool down) {
    for (int attempt = 0; attempt < max_attempts; ++attempt) {
      const uint64_t slot = slot_++;
      const wdmoe::LinkState l = channel_.link(
          device_, wdmoe::fading_draw(scenario_.seed, slot, device_, 0),
          wdmoe::fading_draw(scenario_.seed, slot, device_, 1));
      const double rate = down ? l.rate_down : l.rate_up;
      const double snr = down ? l.snr_down : l.snr_up;
      if (rate > 0) t += bits / rate;
      if (snr >= outage || attempt + 1 == max_attempts) return;
      ++lost_;
    }
  };
  send(bits_down, true);
  send(bits_up, false);
  ++requests_;
  const auto ns = std::chrono::nanoseconds(static_cast<int64_t>(t * 1e9));
  held_ns_ += static_cast<uint64_t>(ns.count());
  return ns;
}

double LinkEmulator::mean_delay_s(size_t request_bytes, size_t reply_bytes) const {
  const wdmoe::LinkState l = channel_.link(device_, 1.0, 1.0);
  const double down = l.rate_down > 0 ? 8.0 * static_cast<double>(request_bytes) / l.rate_down : 0;
  const double up = l.rate_up > 0 ? 8.0 * static_cast<double>(reply_bytes) / l.rate_up : 0;
  return down + up;
}

LinkEmulatorStats LinkEmulator::stats() const {
  return {requests_.load(), lost_.load(), static_cast<double>(held_ns_.load()) * 1e-9};
}

}  // namespace moe::net
