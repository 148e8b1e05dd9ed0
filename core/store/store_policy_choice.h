#pragma once
// Which cache policy each layer of the tiered store runs (issue 14 item 2: "the planner
// chooses the policy by measured hit rate on the recorded profile"). `--policy auto` (the
// default) replays the routing profile's recorded trace through every planner candidate at the
// store's slots and takes the planner's per-layer choice (plan_cache_policy(): most hits, never
// below pinned); any other --policy is used as asked. The label and the reason go to the
// backend line and the bench JSON (`cache_policy`, `cache_policy_reason`).
#include <cstdint>
#include <memory>
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
  std::string reason;          ///< why: "as asked", the planner's hit rates, or why auto means LRU
  std::string planned;         ///< the reason at start (reason adds the fallbacks to it)
  std::vector<int> fell_back;  ///< layers PolicyGuard moved to LRU, in that order
};

/// `asked` for a store of `slots[l]` slots per layer with `profile` (may be empty; `source`
/// names it in the reason). kAuto: the planner on profile.trace when the profile has one;
/// LRU (and a reason saying what to record) when there is no profile or only its counts.
StorePolicyChoice choose_store_policy(CachePolicyKind asked, const RoutingProfile& profile,
                                      const std::string& source, std::span<const int> slots);
/// Records that `layer` now runs LRU (label and reason follow).
void fall_back_to_lru(StorePolicyChoice& c, int layer);

/// The run-time check of auto's choice. The planner chooses in-sample, on the profile's own
/// trace; a profile of another kind of run can pin experts the workload does not use
/// (docs/benchmarks.md: 0.60 vs LRU's 0.88 on mixtral-mini). So a shadow LRU per guarded layer
/// (expert ids only, the same slots) sees the same demand accesses; once a layer has seen
/// `window` accesses and its shadow has hit more than the layer's policy by more than
/// max(4, 5 %) of them (counted from the start, checked at every acquire after that), the layer
/// falls back to LRU; at most once.
class PolicyGuard {
 public:
  /// Guards the layers of `c` that do not run LRU (`window` = 0: none).
  void init(const StorePolicyChoice& c, std::span<const int> slots, int n_expert, int window);
  /// One acquire of `layer`: its demand `experts`, `hits` of them hits in the store. True
  /// when the layer should switch to LRU now (then not again).
  bool observe(int layer, std::span<const int32_t> experts, int hits);
  void set_slots(int layer, int slots);
  bool guarding(int layer) const;

 private:
  struct Layer {
    std::unique_ptr<LayerCache> shadow;  // null: not guarded (LRU already, or decided)
    uint64_t accesses = 0, hits = 0, shadow_hits = 0;
  };
  std::vector<Layer> layers_;
  int window_ = 0;
};

}  // namespace moe
