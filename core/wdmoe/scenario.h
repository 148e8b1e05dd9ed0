#pragma once
// A WDMoE deployment scenario (WDMoE [P2] §II, §IV-A; design §3.2): the base station, the expert
// devices (distance, transmit power, bandwidth share, compute speed), the model dimensions that
// set the per-token data and FLOPs, and where each expert lives. Loaded from JSON
// (resources/scenarios/*.json) or built in code (default_scenario(), the paper's setup).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine_api/placement.h"
#include "core/util/status.h"

namespace moe::wdmoe {

/// One expert device (the paper's "mobile device" q).
struct DeviceSpec {
  std::string name;
  double distance_m = 100;  ///< d_q, distance to the BS
  double power_w = 0.2;     ///< P^u_q, the device's (uplink) transmit power
  double bandwidth_hz = 0;  ///< B_q; 0 in a scenario = "equal split of the total" (resolved)
  double flops = 1e13;      ///< C_q, FLOP/s of the device's accelerator
};

/// Model dimensions for eqs. 4-5.
struct ModelDims {
  int hidden = 4096;             ///< m (Mixtral 8x7B)
  int expert_hidden = 14336;     ///< m_h
  double activation_flops = 4;   ///< η, FLOPs of the activation per element (SiLU: our estimate)
  double bytes_per_element = 2;  ///< ε, bytes per transferred activation element (fp16)
};

struct Scenario {
  std::string name = "custom";
  double carrier_ghz = 3.5;           ///< f_carrier
  double total_bandwidth_hz = 100e6;  ///< B, shared by the devices
  double bs_power_w = 10;             ///< P^d_q (BS transmit power towards each device)
  double noise_temperature_k = 290;   ///< N0 = k T per Hz
  int tokens_per_slot = 1;            ///< fading is redrawn every this many tokens
  uint64_t seed = 1;                  ///< fading seed
  ModelDims model;
  std::vector<DeviceSpec> devices;
  /// placement[e] = devices holding expert e (every MoE layer alike). Empty = expert q on device
  /// q mod n_devices (the paper: expert q on device q). More than one entry = replicas; the
  /// fastest replica serves.
  std::vector<std::vector<int>> placement;

  int n_devices() const { return static_cast<int>(devices.size()); }
  /// The placement as the one Placement type (default: expert q on device q mod n).
  Placement expert_placement() const { return Placement(n_devices(), placement); }
};

/// The paper's simulation (§IV-A): 8 devices, 3.5 GHz, 100 MHz split evenly, BS 10 W, devices
/// 0.2 W, expert q on device q; distances and FLOP/s are ours (the paper gives none).
Scenario default_scenario();

/// Checks ranges and consistency; fills equal bandwidth shares where a device has 0.
/// Errors name the field, e.g. "devices[2].distance_m: must be > 0 (got -5)".
Status validate_and_resolve(Scenario& s);

/// Parses and validates a scenario JSON document. `origin` prefixes error messages.
Result<Scenario> parse_scenario_json(std::string_view text, std::string_view origin = "scenario");
/// Reads and parses a scenario file: a regular file of at most kMaxScenarioBytes
/// (core/util/limits.h); a FIFO, a device or a larger file is refused before it is read.
Result<Scenario> load_scenario_file(const std::string& path);
std::string scenario_to_json(const Scenario& s);

}  // namespace moe::wdmoe
