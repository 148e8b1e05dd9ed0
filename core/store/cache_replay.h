#pragma once
// Offline replay of a routing trace through the cache policies (the same LayerCache classes
// the tiered store runs), Belady's optimal hit rate for the same trace, and the planner that
// picks a policy by measured hit rate (issue 14 items 2, 6, 9).
//
// Replay of one layer, token after token: the token's experts are protected from eviction
// while it is routed (the store's executor holds them), each is on_access()'d and, on a miss,
// admit()'d. With a simulated prefetcher, `depth` guesses per token are admitted speculatively
// first: each guess is one of the token's experts with probability `accuracy`, else another
// expert at random (a stand-in for applying the next layer's router early; its measured
// accuracy is the store's business).
//
// Belady (MIN) with bypass: on a miss with all slots full, the expert whose next use is
// farthest — the incoming one included — is the one left out. Optimal for demand caching with
// optional admission, so its hit rate bounds every policy here, pinned (which bypasses) too.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/store/cache_policy.h"
#include "core/store/routing_profile.h"
#include "core/store/routing_trace.h"

namespace moe {

struct HitStats {
  uint64_t hits = 0, accesses = 0;
  double rate() const { return accesses ? static_cast<double>(hits) / accesses : 0.0; }
  void add(const HitStats& o) { hits += o.hits, accesses += o.accesses; }
};

/// A policy as the replay and the planner configure it.
struct PolicyConfig {
  CachePolicyKind kind = CachePolicyKind::kLru;
  double pinned_fraction = 0.5;  ///< hybrid: round(fraction * slots) of a layer's slots pinned
  SpeculativeInsert speculative = SpeculativeInsert::kLruEnd;
  /// "lru", "hybrid(50%)", "lru[spec@mru]".
  std::string label() const;
  int pinned_slots(int slots) const;
};

struct PrefetchSim {
  int depth = 0;          ///< guesses per token per layer (0: no prefetch)
  double accuracy = 0.8;  ///< probability that a guess is one of the token's experts
  uint64_t seed = 1;
};

struct ReplayResult {
  std::string label;
  std::vector<HitStats> layers;
  HitStats total;
  uint64_t prefetch_issued = 0, prefetch_used = 0;  ///< admitted guesses; of them, used
};

/// Replays `trace` with `slots[l]` slots per layer (missing entries: 0) and the profile `prior`
/// (may be empty: LFU then starts from zero, pinned pins ids 0.. — give a profile).
ReplayResult replay_policy(const RoutingTrace& trace, const RoutingProfile& prior,
                           std::span<const int> slots, const PolicyConfig& policy,
                           const PrefetchSim& prefetch = {});
/// replay_policy() with `policies[l]` for layer l (the last one for layers past the end).
ReplayResult replay_per_layer(const RoutingTrace& trace, const RoutingProfile& prior,
                              std::span<const int> slots, std::span<const PolicyConfig> policies,
                              const PrefetchSim& prefetch = {});
/// Belady's optimal hits of one layer's accesses with `slots` slots (with bypass), starting
/// with `initial` resident (the first `slots` of them; e.g. what a store's warm-up loaded, so
/// the bound starts where the store did), else empty.
HitStats belady_hits(const LayerRoute& route, int slots, std::span<const int> initial = {});
ReplayResult replay_belady(const RoutingTrace& trace, std::span<const int> slots);

/// The candidates the planner replays: pinned, lru, lfu, hybrid at 25/50/75 % pinned.
std::vector<PolicyConfig> planner_candidates();

struct CachePlan {
  PolicyConfig chosen;
  std::vector<ReplayResult> replays;  ///< of planner_candidates(), in that order
  std::string reason;
  /// The same choice made per layer (the store builds one LayerCache per layer, so it can
  /// follow this; more freedom, more room to fit the profile's noise).
  std::vector<PolicyConfig> per_layer;
};
/// Replays every candidate on `profile_trace` (the recorded profile's own trace, with `prior`
/// its counts) and picks the most hits. Ties go to the first candidate (pinned: fixed, no
/// churn). Guarantee (issue 14, "the dynamic policy never does worse than pinning"): the choice
/// is pinned whenever a dynamic policy's hits on the profile are below pinned's (per layer too).
CachePlan plan_cache_policy(const RoutingTrace& profile_trace, const RoutingProfile& prior,
                            std::span<const int> slots);

}  // namespace moe
