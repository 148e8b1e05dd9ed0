#pragma once
// Which cache policy each layer of the tiered store runs (issue 14 item 2: "the planner
// chooses the policy by measured hit rate on the recorded profile"). `--policy auto` (the
// default) replays the routing profile's recorded trace through every planner candidate at the
// store's slots and takes the planner's per-layer choice (plan_cache_policy(): most hits, never
// below pinned); any other --policy is used as asked. The label and the reason go to the
// backend line and the bench JSON (`cache_policy`, `cache_policy_reason`).
#include <span>
#include <string>
#include <vector>

#include "core/store/cache_replay.h"
#include "core/store/routing_profile.h"

namespace moe {

struct StorePolicyChoice {
  std::vector<PolicyConfig> layers;  ///< [n_layer] the policy of each layer
  /// "lru", "pinned", "hybrid(25%)", or, when layers differ, "per layer: lfu x10, pinned x6"
  /// (most used first).
  std::string label;
  std::string reason;  ///< why: "as asked", the planner's hit rates, or why auto means LRU
};

/// `asked` for a store of `slots[l]` slots per layer with `profile` (may be empty; `source`
/// names it in the reason). kAuto: the planner on profile.trace when the profile has one;
/// LRU (and a reason saying what to record) when there is no profile or only its counts.
StorePolicyChoice choose_store_policy(CachePolicyKind asked, const RoutingProfile& profile,
                                      const std::string& source, std::span<const int> slots);

}  // namespace moe
