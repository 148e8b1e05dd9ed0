#include "core/store/cache_replay.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <unordered_set>

namespace moe {

std::string PolicyConfig::label() const {
  std::string s = cache_policy_name(kind);
  if (kind == CachePolicyKind::kHybrid) {
    s += "(" + std::to_string(static_cast<int>(std::lround(pinned_fraction * 100))) + "%)";
  }
  if (speculative == SpeculativeInsert::kMruEnd &&
      (kind == CachePolicyKind::kLru || kind == CachePolicyKind::kHybrid)) {
    s += "[spec@mru]";
  }
  return s;
}

int PolicyConfig::pinned_slots(int slots) const {
  return kind == CachePolicyKind::kHybrid
             ? static_cast<int>(std::lround(pinned_fraction * std::max(slots, 0)))
             : 0;
}

ReplayResult replay_policy(const RoutingTrace& trace, const RoutingProfile& prior,
                           std::span<const int> slots, const PolicyConfig& policy,
                           const PrefetchSim& prefetch) {
  ReplayResult r = replay_per_layer(trace, prior, slots, std::span(&policy, 1), prefetch);
  r.label = policy.label();
  return r;
}

ReplayResult replay_per_layer(const RoutingTrace& trace, const RoutingProfile& prior,
                              std::span<const int> slots, std::span<const PolicyConfig> policies,
                              const PrefetchSim& prefetch) {
  ReplayResult r;
  r.label = "per-layer";
  if (policies.empty()) return r;
  r.layers.resize(trace.layers.size());
  std::mt19937_64 rng(prefetch.seed);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::vector<int> protect, guesses;
  const Evictable evictable = [&protect](int e) {
    return std::find(protect.begin(), protect.end(), e) == protect.end();
  };
  for (size_t l = 0; l < trace.layers.size(); ++l) {
    const int s = l < slots.size() ? slots[l] : 0;
    const PolicyConfig& policy = policies[std::min(l, policies.size() - 1)];
    LayerCacheOptions o;
    o.kind = policy.kind;
    o.n_expert = trace.n_expert;
    o.slots = s;
    o.profile = prior.layer(static_cast<int>(l));
    o.pinned_slots = policy.pinned_slots(s);
    o.speculative = policy.speculative;
    auto cache = make_layer_cache(o);
    const LayerRoute& route = trace.layers[l];
    std::unordered_set<int> unused_prefetch;  // admitted guesses not used yet
    auto note_eviction = [&](int evicted) {
      if (evicted >= 0) unused_prefetch.erase(evicted);
    };
    HitStats& st = r.layers[l];
    for (size_t t = 0; t < route.n_tokens(); ++t) {
      const auto cur = route.token(t);
      protect.assign(cur.begin(), cur.end());
      if (prefetch.depth > 0) {
        guesses.clear();
        for (int g = 0; g < prefetch.depth; ++g) {
          int e = -1;
          if (static_cast<size_t>(g) < cur.size() && unif(rng) < prefetch.accuracy) {
            e = cur[static_cast<size_t>(g)];
          } else if (static_cast<size_t>(trace.n_expert) > cur.size()) {
            do {
              e = static_cast<int>(rng() % static_cast<uint64_t>(trace.n_expert));
            } while (std::find(cur.begin(), cur.end(), e) != cur.end());
          }
          if (e >= 0) guesses.push_back(e);
        }
        protect.insert(protect.end(), guesses.begin(), guesses.end());
        for (const int g : guesses) {
          if (cache->resident(g)) continue;
          const int res = cache->admit(g, evictable, /*speculative=*/true);
          if (res == kNotAdmitted) continue;
          note_eviction(res);
          ++r.prefetch_issued;
          unused_prefetch.insert(g);
        }
      }
      for (const int16_t e : cur) {
        ++st.accesses;
        const bool hit = cache->resident(e);
        if (hit) {
          ++st.hits;
          if (unused_prefetch.erase(e) != 0) ++r.prefetch_used;
        }
        cache->on_access(e);
        if (!hit) note_eviction(cache->admit(e, evictable, /*speculative=*/false));
      }
    }
    r.total.add(st);
  }
  return r;
}

HitStats belady_hits(const LayerRoute& route, int slots, std::span<const int> initial) {
  const auto& acc = route.flat();
  constexpr size_t kNever = std::numeric_limits<size_t>::max();
  std::vector<size_t> next(acc.size(), kNever);
  std::vector<size_t> seen;  // expert -> next index seen while scanning backwards (then: first)
  for (size_t i = acc.size(); i-- > 0;) {
    const auto e = static_cast<size_t>(acc[i]);
    if (e >= seen.size()) seen.resize(e + 1, kNever);
    next[i] = seen[e];
    seen[e] = i;
  }
  HitStats st;
  std::set<std::pair<size_t, int>> by_next;  // (next use, expert) of the residents
  std::vector<size_t> key;                   // expert -> its next use while resident
  std::vector<bool> resident;
  for (const int e : initial) {  // the store's warm-up: resident before the first access
    const auto ue = static_cast<size_t>(e);
    if (e < 0 || static_cast<int>(by_next.size()) >= slots) break;
    if (ue >= resident.size()) resident.resize(ue + 1, false), key.resize(ue + 1, 0);
    if (resident[ue]) continue;
    resident[ue] = true;
    key[ue] = ue < seen.size() ? seen[ue] : kNever;
    by_next.insert({key[ue], e});
  }
  for (size_t i = 0; i < acc.size(); ++i) {
    const int e = acc[i];
    const auto ue = static_cast<size_t>(e);
    if (ue >= resident.size()) resident.resize(ue + 1, false), key.resize(ue + 1, 0);
    ++st.accesses;
    if (resident[ue]) {
      ++st.hits;
      by_next.erase({key[ue], e});
    } else {
      if (slots <= 0) continue;
      if (static_cast<int>(by_next.size()) >= slots) {
        const auto far = std::prev(by_next.end());
        if (far->first <= next[i]) continue;  // the incoming expert is needed last: bypass
        resident[static_cast<size_t>(far->second)] = false;
        by_next.erase(far);
      }
      resident[ue] = true;
    }
    key[ue] = next[i];
    by_next.insert({next[i], e});
  }
  return st;
}

ReplayResult replay_belady(const RoutingTrace& trace, std::span<const int> slots) {
  ReplayResult r;
  r.label = "belady";
  for (size_t l = 0; l < trace.layers.size(); ++l) {
    r.layers.push_back(belady_hits(trace.layers[l], l < slots.size() ? slots[l] : 0));
    r.total.add(r.layers.back());
  }
  return r;
}

std::vector<PolicyConfig> planner_candidates() {
  std::vector<PolicyConfig> c;
  auto add = [&](CachePolicyKind k, double f) {
    PolicyConfig p;
    p.kind = k;
    p.pinned_fraction = f;
    c.push_back(p);
  };
  add(CachePolicyKind::kPinned, 0);
  add(CachePolicyKind::kLru, 0);
  add(CachePolicyKind::kLfu, 0);
  for (const double f : {0.25, 0.5, 0.75}) add(CachePolicyKind::kHybrid, f);
  return c;
}

CachePlan plan_cache_policy(const RoutingTrace& profile_trace, const RoutingProfile& prior,
                            std::span<const int> slots) {
  CachePlan plan;
  const auto cands = planner_candidates();
  size_t best = 0;
  for (size_t i = 0; i < cands.size(); ++i) {
    plan.replays.push_back(replay_policy(profile_trace, prior, slots, cands[i]));
    if (plan.replays[i].total.hits > plan.replays[best].total.hits) best = i;
  }
  // The guarantee, explicit: whatever the ranking above, a dynamic choice never has fewer hits
  // than pinned on the profile (cands[0] is pinned).
  const HitStats& pinned = plan.replays[0].total;
  if (plan.replays[best].total.hits < pinned.hits) best = 0;
  plan.chosen = cands[best];
  // Per layer: the same rule on each layer's hits (ties -> pinned, never below pinned).
  for (size_t l = 0; l < profile_trace.layers.size(); ++l) {
    size_t b = 0;
    for (size_t i = 1; i < cands.size(); ++i) {
      if (plan.replays[i].layers[l].hits > plan.replays[b].layers[l].hits) b = i;
    }
    if (plan.replays[b].layers[l].hits < plan.replays[0].layers[l].hits) b = 0;
    plan.per_layer.push_back(cands[b]);
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "most hits on the profile: %s %.3f (pinned %.3f)",
                plan.replays[best].label.c_str(), plan.replays[best].total.rate(), pinned.rate());
  plan.reason = buf;
  return plan;
}

}  // namespace moe
