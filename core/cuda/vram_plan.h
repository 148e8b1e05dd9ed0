#pragma once
// The VRAM budget of the CUDA backend, split explicitly (pure C++, tested on any machine):
// resident non-expert weights, the KV cache, the executor's scratch, and what is left goes to
// the expert cache as whole slots of the largest expert's bytes. The budget is a size or a
// share of the expert bytes (`--vram-budget`, parsed like --ram-budget), or by default what
// every expert needs, capped at 90 % of the device's free memory.
#include <cstdint>
#include <optional>
#include <string>

#include "core/store/ram_budget.h"
#include "core/util/status.h"

namespace moe::cuda {

struct VramNeeds {
  uint64_t resident_bytes = 0;  ///< non-expert weights kept on the device (0 today: CPU)
  uint64_t kv_bytes = 0;        ///< KV cache on the device (0 today: CPU)
  uint64_t scratch_bytes = 0;   ///< activations and work buffers of the executor
  uint64_t slot_bytes = 0;      ///< one expert (gate + up + down) in the device layout
  int n_layer = 0, n_expert = 0;
};

struct VramPlan {
  uint64_t budget = 0;
  uint64_t resident_bytes = 0, kv_bytes = 0, scratch_bytes = 0;
  uint64_t slot_bytes = 0;
  int expert_slots = 0;  ///< at most n_layer * n_expert
  uint64_t expert_bytes() const { return slot_bytes * static_cast<uint64_t>(expert_slots); }
  /// Share of all experts the VRAM tier holds, in [0, 1].
  double expert_share(int n_layer, int n_expert) const;
  /// "VRAM budget 20.0 GiB: experts 96 slots x 99.0 MiB (37 %), scratch 1.2 MiB"
  std::string describe(int n_layer, int n_expert) const;
};

/// Splits `budget` (resolved against the expert bytes: n_layer * n_expert * slot_bytes; none:
/// all experts + the rest, capped at 90 % of `free_bytes`). An error when the budget exceeds
/// `free_bytes` or leaves fewer than one expert slot per layer; it names the sizes.
Result<VramPlan> plan_vram(const VramNeeds& needs, const std::optional<RamBudget>& budget,
                           uint64_t free_bytes);

}  // namespace moe::cuda
