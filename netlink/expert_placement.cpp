#include "netlink/expert_placement.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

namespace moe::net {

std::string this_machine_key() {
  std::string id;
  std::getline(std::ifstream("/proc/sys/kernel/random/boot_id"), id);
  if (id.empty()) {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) == 0) id = name;
  }
  if (id.empty()) return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(id.data(), id.size(), md, &n, EVP_sha256(), nullptr) != 1) return {};
  static const char* const hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 8 && i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

std::vector<int> place_experts(int n_layer, int n_expert,
                               std::span<const PlacementDevice> devices) {
  const size_t n_dev = devices.size();
  // Machines: devices with one key form a group; a device without a key is a group of its own.
  // A machine's speed is its fastest device's: each measured the same cores, and devices that
  // started together measured beside each other's measurement.
  std::vector<size_t> group_of(n_dev);
  std::vector<std::vector<size_t>> members;
  std::vector<double> group_speed;
  std::map<std::string, size_t> by_key;
  for (size_t i = 0; i < n_dev; ++i) {
    const std::string& key = devices[i].machine;
    const auto it = key.empty() ? by_key.end() : by_key.find(key);
    size_t g = 0;
    if (it != by_key.end()) {
      g = it->second;
    } else {
      g = members.size();
      members.emplace_back();
      group_speed.push_back(0);
      if (!key.empty()) by_key.emplace(key, g);
    }
    group_of[i] = g;
    members[g].push_back(i);
    group_speed[g] = std::max(group_speed[g], std::max(devices[i].speed, 1e-9));
  }
  const size_t n_group = members.size();
  std::vector<uint64_t> held(n_dev, 0);
  std::vector<int> assign(static_cast<size_t>(n_layer) * static_cast<size_t>(n_expert), -1);
  std::vector<int> load(n_group);
  std::vector<size_t> layer_device(n_group);
  const auto room = [&](size_t i) { return held[i] < devices[i].capacity; };
  const auto serves = [&](size_t i, size_t k) { return k < devices[i].served.size() && devices[i].served[k] != 0; };
  for (int l = 0; l < n_layer; ++l) {
    const size_t row = static_cast<size_t>(l) * static_cast<size_t>(n_expert);
    // Each machine's device for this layer: its devices take consecutive blocks of layers
    // (the next layer usually goes to the device that just computed one, its threads still
    // awake); where the block's device lacks room or every expert of the layer, the one of
    // those that qualify holding least so far.
    for (size_t g = 0; g < n_group; ++g) {
      const auto qualifies = [&](size_t i) {
        bool any = false;
        for (int e = 0; e < n_expert && !any; ++e) any = serves(i, row + static_cast<size_t>(e));
        return any && room(i);
      };
      const size_t m = members[g].size();
      const size_t block = members[g][static_cast<size_t>(l) * m / static_cast<size_t>(n_layer)];
      size_t pick = n_dev;
      if (qualifies(block)) {
        pick = block;
      } else {
        for (size_t i : members[g]) {
          if (qualifies(i) && (pick == n_dev || held[i] < held[pick])) pick = i;
        }
      }
      layer_device[g] = pick;
    }
    std::fill(load.begin(), load.end(), 0);
    for (int e = 0; e < n_expert; ++e) {
      const size_t k = row + static_cast<size_t>(e);
      // The machine whose share would stay smallest relative to its speed, on its layer device;
      // where that device lacks the expert or room, another of the machine's devices.
      size_t best = n_dev;
      double best_cost = 0;
      for (size_t g = 0; g < n_group; ++g) {
        size_t pick = n_dev;
        const size_t ld = layer_device[g];
        if (ld < n_dev && serves(ld, k) && room(ld)) {
          pick = ld;
        } else {
          for (size_t i : members[g]) {
            if (serves(i, k) && room(i)) {
              pick = i;
              break;
            }
          }
        }
        if (pick == n_dev) continue;
        const double cost = (load[g] + 1) / group_speed[g];
        if (best == n_dev || cost < best_cost) best = pick, best_cost = cost;
      }
      if (best == n_dev) continue;
      assign[k] = static_cast<int>(best);
      ++held[best];
      ++load[group_of[best]];
    }
  }
  return assign;
}

}  // namespace moe::net
