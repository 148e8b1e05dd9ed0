#include "core/store/store_policy_choice.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace moe {
namespace {

std::string label_of(std::span<const PolicyConfig> layers) {
  std::map<std::string, int> uses;
  for (const PolicyConfig& p : layers) ++uses[p.label()];
  if (uses.size() == 1) return uses.begin()->first;
  std::vector<std::pair<std::string, int>> order(uses.begin(), uses.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out = "per layer:";
  for (size_t i = 0; i < order.size(); ++i) {
    out += (i ? ", " : " ") + order[i].first + " x" + std::to_string(order[i].second);
  }
  return out;
}

// The hit rate on the profile's trace of the per-layer choice, from the planner's replays.
double per_layer_rate(const CachePlan& plan) {
  HitStats sum;
  for (size_t l = 0; l < plan.per_layer.size(); ++l) {
    for (const ReplayResult& r : plan.replays) {
      if (r.label == plan.per_layer[l].label() && l < r.layers.size()) {
        sum.add(r.layers[l]);
        break;
      }
    }
  }
  return sum.rate();
}

const ReplayResult* replay_named(const CachePlan& plan, const std::string& label) {
  for (const ReplayResult& r : plan.replays) {
    if (r.label == label) return &r;
  }
  return nullptr;
}

}  // namespace

StorePolicyChoice choose_store_policy(CachePolicyKind asked, const RoutingProfile& profile,
                                      const std::string& source, std::span<const int> slots) {
  StorePolicyChoice c;
  const size_t n_layer = slots.size();
  if (asked != CachePolicyKind::kAuto) {
    c.layers.assign(n_layer, PolicyConfig{asked});
    c.label = cache_policy_name(asked);
    c.reason = "as asked";
    return c;
  }
  c.layers.assign(n_layer, PolicyConfig{CachePolicyKind::kLru});
  c.label = "lru";
  if (profile.n_layer() == 0) {
    c.reason = "auto: no routing profile, so LRU (record one with moe-cli profile, or give "
               "--profile)";
    return c;
  }
  if (!profile.has_trace() || profile.trace.n_layer() != static_cast<int>(n_layer)) {
    c.reason = "auto: the profile " + source +
               " holds counts only (an older moe-cli profile file), which the planner cannot "
               "replay, so LRU; record it again with moe-cli profile --trace FILE -m MODEL";
    return c;
  }
  // In-sample: the profile's own trace, its counts as the prior (pinned / hybrid / LFU read the
  // same counts at run time).
  const CachePlan plan = plan_cache_policy(profile.trace, profile, slots);
  c.layers = plan.per_layer;
  c.label = label_of(c.layers);
  const ReplayResult* lru = replay_named(plan, "lru");
  const ReplayResult* pinned = replay_named(plan, "pinned");
  char buf[200];
  std::snprintf(buf, sizeof buf,
                "auto: the planner's per-layer choice, most hits replaying the profile's "
                "%zu-token trace: %.3f (lru %.3f, pinned %.3f)",
                profile.trace.n_tokens(), per_layer_rate(plan),
                lru ? lru->total.rate() : 0.0, pinned ? pinned->total.rate() : 0.0);
  c.reason = buf;
  return c;
}

}  // namespace moe
