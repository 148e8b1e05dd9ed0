#include "core/cuda/vram_plan.h"

#include <algorithm>
#include <cstdio>

#include "core/util/regular_file.h"

namespace moe::cuda {

double VramPlan::expert_share(int n_layer, int n_expert) const {
  const double all = static_cast<double>(n_layer) * n_expert;
  return all > 0 ? expert_slots / all : 0;
}

std::string VramPlan::describe(int n_layer, int n_expert) const {
  char share[32];
  std::snprintf(share, sizeof(share), "%.0f %%", 100.0 * expert_share(n_layer, n_expert));
  return "VRAM budget " + format_bytes(budget) + ": experts " + std::to_string(expert_slots) +
         " slots x " + format_bytes(slot_bytes) + " (" + share + "), scratch " +
         format_bytes(scratch_bytes) + ", resident weights " + format_bytes(resident_bytes) +
         ", KV " + format_bytes(kv_bytes);
}

Result<VramPlan> plan_vram(const VramNeeds& n, const std::optional<RamBudget>& budget,
                           uint64_t free_bytes) {
  if (n.slot_bytes == 0 || n.n_layer <= 0 || n.n_expert <= 0) {
    return make_error("VRAM plan: the model has no experts to place");
  }
  const uint64_t all_experts = n.slot_bytes * static_cast<uint64_t>(n.n_layer) * n.n_expert;
  const uint64_t fixed = n.resident_bytes + n.kv_bytes + n.scratch_bytes;
  VramPlan p;
  p.resident_bytes = n.resident_bytes;
  p.kv_bytes = n.kv_bytes;
  p.scratch_bytes = n.scratch_bytes;
  p.slot_bytes = n.slot_bytes;
  if (budget) {
    // A share applies to the experts; the fixed parts come on top of it.
    p.budget = budget->is_percent() ? budget->resolve(all_experts) + fixed : budget->bytes;
    if (p.budget > free_bytes) {
      return make_error("VRAM budget ", format_bytes(p.budget), " exceeds the device's free ",
                        format_bytes(free_bytes));
    }
  } else {
    p.budget = std::min(all_experts + fixed, free_bytes / 10 * 9);
  }
  const uint64_t for_experts = p.budget > fixed ? p.budget - fixed : 0;
  const uint64_t slots =
      std::min<uint64_t>(for_experts / n.slot_bytes, static_cast<uint64_t>(n.n_layer) * n.n_expert);
  if (slots < static_cast<uint64_t>(n.n_layer)) {
    return make_error("VRAM budget ", format_bytes(p.budget), ": after resident weights ",
                      format_bytes(n.resident_bytes), ", KV ", format_bytes(n.kv_bytes),
                      " and scratch ", format_bytes(n.scratch_bytes), " it holds ",
                      std::to_string(slots), " expert slots of ", format_bytes(n.slot_bytes),
                      "; at least one per layer (", std::to_string(n.n_layer), ") is needed");
  }
  p.expert_slots = static_cast<int>(slots);
  return p;
}

}  // namespace moe::cuda
