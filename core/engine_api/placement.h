#pragma once
// Placement (design §6): for every (layer, expert), the tier its weights are kept in on this
// host and the devices that can compute it. One type, read by the WDMoE latency sources and
// scenarios now, by the offload planner (tiers) and the LAN layer (devices) next.
//
// Devices: an explicit list per expert (replicas allowed), the same for every layer unless a
// layer is given its own; an expert with no list is on device `expert mod n_devices` (the
// WDMoE paper's placement, expert q on device q). Tiers: kRam for every expert unless set.
#include <cstdint>
#include <span>
#include <vector>

namespace moe {

/// Where expert weights are kept; the numbers are CacheEvent's from_tier / to_tier codes.
enum class Tier : uint8_t { kVram = 0, kRam = 1, kDisk = 2 };
const char* tier_name(Tier t);

class Placement {
 public:
  Placement() = default;
  /// The paper's rule for every expert: expert e on device e mod n_devices.
  explicit Placement(int n_devices) : Placement(n_devices, {}) {}
  /// `by_expert[e]` = devices holding expert e in every layer (empty list: none); experts past
  /// the list follow the paper's rule. Device ids must be in [0, n_devices) (checked by the
  /// caller, e.g. the scenario parser).
  Placement(int n_devices, std::vector<std::vector<int>> by_expert);

  int n_devices() const { return n_devices_; }
  /// Devices that can compute (layer, expert); empty when none (or no devices at all).
  std::span<const int> devices(int layer, int expert) const&;
  /// The span points into the Placement: not on a temporary.
  std::span<const int> devices(int layer, int expert) const&& = delete;
  /// Gives one layer its own device lists (replaces the shared ones for that layer).
  void set_layer_devices(int layer, std::vector<std::vector<int>> by_expert);

  /// Tier of (layer, expert); kRam unless set.
  Tier tier(int layer, int expert) const;
  void set_tier(int layer, int expert, Tier tier);

  /// The experts device q holds in `layer`, for experts [0, n_expert) (dashboards, planners).
  std::vector<int> experts_on(int device, int layer, int n_expert) const;

 private:
  const std::vector<std::vector<int>>& rows(int layer) const;

  int n_devices_ = 0;
  std::vector<int> identity_;                                 // [n_devices] = 0, 1, ...
  std::vector<std::vector<int>> by_expert_;                   // shared by every layer
  std::vector<std::vector<std::vector<int>>> layer_devices_;  // [layer] overrides (may be empty)
  std::vector<std::vector<Tier>> tiers_;                      // [layer][expert], grown by set_tier
};

}  // namespace moe
