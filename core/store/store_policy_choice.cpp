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
    c.reason =
        "auto: no routing profile, so LRU (record one with moe-cli profile, or give "
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
                profile.trace.n_tokens(), per_layer_rate(plan), lru ? lru->total.rate() : 0.0,
                pinned ? pinned->total.rate() : 0.0);
  c.reason = buf;
  c.planned = c.reason;
  return c;
}

void fall_back_to_lru(StorePolicyChoice& c, int layer) {
  if (layer < 0 || static_cast<size_t>(layer) >= c.layers.size()) return;
  c.layers[static_cast<size_t>(layer)] = PolicyConfig{CachePolicyKind::kLru};
  c.fell_back.push_back(layer);
  c.label = label_of(c.layers);
  std::string list;
  for (const int l : c.fell_back) list += (list.empty() ? "" : ", ") + std::to_string(l);
  c.reason = c.planned + "; at run time layer" + (c.fell_back.size() > 1 ? "s " : " ") + list +
             " fell back to lru (a shadow LRU hit more there)";
}

void PolicyGuard::init(const StorePolicyChoice& c, std::span<const int> slots, int n_expert,
                       int window) {
  window_ = window;
  layers_.clear();
  layers_.resize(c.layers.size());
  if (window <= 0) return;
  for (size_t l = 0; l < c.layers.size() && l < slots.size(); ++l) {
    if (c.layers[l].kind == CachePolicyKind::kLru) continue;
    layers_[l].shadow = make_layer_cache(CachePolicyKind::kLru, n_expert, slots[l]);
  }
}

bool PolicyGuard::guarding(int layer) const {
  return layer >= 0 && static_cast<size_t>(layer) < layers_.size() &&
         layers_[static_cast<size_t>(layer)].shadow != nullptr;
}

bool PolicyGuard::observe(int layer, std::span<const int32_t> experts, int hits) {
  if (!guarding(layer)) return false;
  Layer& L = layers_[static_cast<size_t>(layer)];
  // The token's experts are protected, as the store's executor holds them.
  const Evictable evictable = [experts](int x) {
    return std::find(experts.begin(), experts.end(), x) == experts.end();
  };
  for (const int32_t x : experts) {
    L.shadow->on_access(x);
    if (L.shadow->resident(x)) {
      ++L.shadow_hits;
    } else {
      L.shadow->admit(x, evictable, false);
    }
  }
  L.accesses += experts.size();
  L.hits += static_cast<uint64_t>(std::max(hits, 0));
  if (L.accesses < static_cast<uint64_t>(window_)) return false;
  const double margin = std::max(4.0, 0.05 * static_cast<double>(L.accesses));
  if (static_cast<double>(L.shadow_hits) <= static_cast<double>(L.hits) + margin) return false;
  L.shadow.reset();  // decided
  return true;
}

void PolicyGuard::set_slots(int layer, int slots) {
  if (!guarding(layer)) return;
  LayerCache& s = *layers_[static_cast<size_t>(layer)].shadow;
  s.set_slots(slots);
  while (s.n_resident() > s.slots() && s.evict_one([](int) { return true; }) >= 0) {
  }
}

}  // namespace moe
