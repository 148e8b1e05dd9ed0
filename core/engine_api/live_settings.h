#pragma once
// Live settings (design §6): everything an operator changes while the model runs, as one
// immutable snapshot. A front end publishes a new snapshot (Engine::update_settings); the
// engine takes the newest one once per token step, so a step never sees half an update and
// adding a setting (budgets, placement) adds a field here, not a chain of setters.
#include <memory>

#include "core/engine_api/expert_selection.h"

namespace moe {

struct LiveSettings {
  int experts_per_token = 0;  ///< k; 0: the model's expert_used_count (clamped to [1, n_expert])
  float theta = 0;            ///< WDMoE θ for the WLR selector; 0: plain top-k
  std::shared_ptr<ExpertSelector> selector;  ///< null: top-k
  bool operator==(const LiveSettings&) const = default;
};

}  // namespace moe
