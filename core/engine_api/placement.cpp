#include "core/engine_api/placement.h"

namespace moe {

const char* tier_name(Tier t) {
  switch (t) {
    case Tier::kVram: return "VRAM";
    case Tier::kRam: return "RAM";
    case Tier::kDisk: return "disk";
  }
  return "?";
}

Placement::Placement(int n_devices, std::vector<std::vector<int>> by_expert)
    : n_devices_(n_devices < 0 ? 0 : n_devices), by_expert_(std::move(by_expert)) {
  identity_.resize(static_cast<size_t>(n_devices_));
  for (int q = 0; q < n_devices_; ++q) identity_[static_cast<size_t>(q)] = q;
}

const std::vector<std::vector<int>>& Placement::rows(int layer) const {
  if (layer >= 0 && layer < static_cast<int>(layer_devices_.size()) &&
      !layer_devices_[static_cast<size_t>(layer)].empty()) {
    return layer_devices_[static_cast<size_t>(layer)];
  }
  return by_expert_;
}

std::span<const int> Placement::devices(int layer, int expert) const& {
  if (expert < 0) return {};
  const auto& r = rows(layer);
  if (expert < static_cast<int>(r.size())) return r[static_cast<size_t>(expert)];
  if (n_devices_ == 0) return {};
  return {&identity_[static_cast<size_t>(expert % n_devices_)], 1};
}

void Placement::set_layer_devices(int layer, std::vector<std::vector<int>> by_expert) {
  if (layer < 0) return;
  if (layer >= static_cast<int>(layer_devices_.size())) layer_devices_.resize(layer + 1u);
  layer_devices_[static_cast<size_t>(layer)] = std::move(by_expert);
}

Tier Placement::tier(int layer, int expert) const {
  if (layer < 0 || expert < 0 || layer >= static_cast<int>(tiers_.size())) return Tier::kRam;
  const auto& row = tiers_[static_cast<size_t>(layer)];
  return expert < static_cast<int>(row.size()) ? row[static_cast<size_t>(expert)] : Tier::kRam;
}

void Placement::set_tier(int layer, int expert, Tier tier) {
  if (layer < 0 || expert < 0) return;
  if (layer >= static_cast<int>(tiers_.size())) tiers_.resize(layer + 1u);
  auto& row = tiers_[static_cast<size_t>(layer)];
  if (expert >= static_cast<int>(row.size())) row.resize(expert + 1u, Tier::kRam);
  row[static_cast<size_t>(expert)] = tier;
}

std::vector<int> Placement::experts_on(int device, int layer, int n_expert) const {
  std::vector<int> out;
  for (int e = 0; e < n_expert; ++e) {
    for (int q : devices(layer, e)) {
      if (q == device) {
        out.push_back(e);
        break;
      }
    }
  }
  return out;
}

}  // namespace moe
