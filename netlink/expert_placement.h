#pragma once
// Which device computes each (layer, expert): the host's placement of experts over its LAN
// devices (docs/protocol.md, "Placement"). A pure function of what the devices said in their
// hello-acks, so that it can be tested without sockets.
//
// Devices on different machines compute in parallel: a layer's experts are spread over them in
// proportion to their speed, so a token's experts run at once. Devices on one machine (the same
// `machine` key: moe-node reports a hash of the kernel's boot id) share that machine's cores and
// memory bandwidth: spreading a layer over them buys no compute and costs a hand-over per
// device per layer — on a 2-vCPU machine with four nodes, 0.5x of all-local decode instead of
// ~0.7x (docs/benchmarks.md). So each layer's share of such a machine goes to one of its
// devices, a different one layer by layer (each holds whole layers), and that device uses the
// machine's cores for it.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace moe::net {

struct PlacementDevice {
  /// Devices with the same non-empty key run on one machine; empty: a machine of its own.
  std::string machine;
  double speed = 1;                   ///< GFLOP/s it measured (> 0)
  uint64_t capacity = UINT64_MAX;     ///< experts its memory holds; 0: none (a device that is down)
  std::span<const uint8_t> served;    ///< [n_layer * n_expert], 1: it has expert e of layer l
};

/// This machine's key for HelloAck::machine: the first 16 hex digits of SHA-256 of the kernel's
/// boot id (/proc/sys/kernel/random/boot_id: one per running kernel, so containers on one host
/// share it; hashed so that the id itself does not leave the machine), else of the host name;
/// empty when neither can be read.
std::string this_machine_key();

/// assign[l * n_expert + e] = index into `devices`, or -1: no device with room serves it (the
/// host computes it).
std::vector<int> place_experts(int n_layer, int n_expert, std::span<const PlacementDevice> devices);

}  // namespace moe::net
