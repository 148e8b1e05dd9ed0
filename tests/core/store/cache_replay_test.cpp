// Replay, Belady's oracle, the planner and slot allocation: hand-made traces with known
// answers, and the oracle >= every policy as a property over seeds, slot counts and skew.
#include "core/store/cache_replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "core/store/slot_allocation.h"

namespace moe {
namespace {

/// A one-layer trace from per-token expert lists.
RoutingTrace trace_of(const std::vector<std::vector<int16_t>>& tokens, int n_expert) {
  RoutingTrace t;
  t.n_expert = n_expert;
  t.layers.resize(1);
  for (const auto& tok : tokens) {
    t.layers[0].push(tok);
    t.top_k = std::max(t.top_k, static_cast<int>(tok.size()));
  }
  return t;
}

TEST(Belady, HandSequenceWithBypass) {
  // 1 2 3 1 2 4 1 2, 2 slots: 3 and 4 are needed never again, so they bypass: 4 hits.
  const auto t = trace_of({{1}, {2}, {3}, {1}, {2}, {4}, {1}, {2}}, 5);
  const HitStats b = belady_hits(t.layers[0], 2);
  EXPECT_EQ(b.accesses, 8u);
  EXPECT_EQ(b.hits, 4u);
  // LRU thrashes on the same sequence: no hit at all.
  const std::vector<int> slots = {2};
  PolicyConfig lru;
  const auto r = replay_policy(t, profile_from_trace(t), slots, lru);
  EXPECT_EQ(r.total.hits, 0u);
  EXPECT_EQ(r.total.accesses, 8u);
  EXPECT_EQ(belady_hits(t.layers[0], 0).hits, 0u);
  EXPECT_EQ(belady_hits(t.layers[0], 5).hits, 4u);  // only the compulsory misses remain
  // Started with experts already resident (a store's warm-up), those first uses are hits too.
  const int all[] = {0, 1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(belady_hits(t.layers[0], 8, all).hits, t.layers[0].n_accesses());
}

TEST(Belady, NeverBelowAnyPolicyOnRandomAndSkewedTraces) {
  for (const double zipf : {0.0, 0.8, 1.5}) {
    for (const double locality : {0.0, 0.5}) {
      for (uint64_t seed = 1; seed <= 6; ++seed) {
        SyntheticTraceSpec s;
        s.n_layer = 3;
        s.n_expert = 8;
        s.top_k = 2;
        s.n_tokens = 300;
        s.zipf_s = zipf;
        s.locality = locality;
        s.drift = 0.02;
        s.seed = seed;
        const auto t = make_synthetic_trace(s);
        const auto prior = profile_from_trace(t.slice(0, 150));
        for (int slots = 0; slots <= 8; ++slots) {
          const std::vector<int> sl(3, slots);
          const auto oracle = replay_belady(t, sl);
          for (const auto& p : planner_candidates()) {
            const auto r = replay_policy(t, prior, sl, p);
            for (size_t l = 0; l < 3; ++l) {
              ASSERT_GE(oracle.layers[l].hits, r.layers[l].hits)
                  << p.label() << " zipf " << zipf << " loc " << locality << " seed " << seed
                  << " slots " << slots << " layer " << l;
            }
          }
          if (slots == 8) {  // everything fits: only the first use of each expert misses
            uint64_t distinct = 0;
            for (const auto& c : profile_from_trace(t).counts) {
              distinct += static_cast<uint64_t>(
                  std::count_if(c.begin(), c.end(), [](uint64_t n) { return n > 0; }));
            }
            EXPECT_EQ(oracle.total.hits, oracle.total.accesses - distinct);
          }
        }
      }
    }
  }
}

TEST(Replay, LruMatchesStackDistanceCurve) {
  SyntheticTraceSpec s;
  s.n_layer = 2;
  s.n_expert = 8;
  s.top_k = 1;  // one expert per token: nothing to protect, LRU is Mattson's LRU exactly
  s.n_tokens = 500;
  s.zipf_s = 1.0;
  s.locality = 0.3;
  const auto t = make_synthetic_trace(s);
  const auto curves = lru_hit_curves(t);
  for (int slots = 0; slots <= 8; ++slots) {
    const std::vector<int> sl(2, slots);
    const auto r = replay_policy(t, {}, sl, PolicyConfig{});
    for (size_t l = 0; l < 2; ++l) {
      EXPECT_DOUBLE_EQ(curves[l][static_cast<size_t>(slots)],
                       static_cast<double>(r.layers[l].hits));
    }
  }
}

TEST(Replay, PrefetchCounters) {
  SyntheticTraceSpec s;
  s.n_layer = 1;
  s.n_expert = 8;
  s.top_k = 2;
  s.n_tokens = 200;
  const auto t = make_synthetic_trace(s);
  const std::vector<int> sl = {4};
  PrefetchSim perfect;
  perfect.depth = 2;
  perfect.accuracy = 1.0;
  const auto r = replay_policy(t, {}, sl, PolicyConfig{}, perfect);
  EXPECT_EQ(r.total.hits, r.total.accesses);  // every expert was fetched before its use
  EXPECT_GT(r.prefetch_issued, 0u);
  EXPECT_EQ(r.prefetch_used, r.prefetch_issued);
  PrefetchSim wrong = perfect;
  wrong.accuracy = 0.0;
  const auto w = replay_policy(t, {}, sl, PolicyConfig{}, wrong);
  EXPECT_GT(w.prefetch_issued, 0u);
  // A wrong guess can still be used by a later token before it is evicted, but rarely.
  EXPECT_LT(w.prefetch_used * 2, w.prefetch_issued);
  // Wrong guesses at the LRU end hurt less than at the MRU end.
  PolicyConfig mru;
  mru.speculative = SpeculativeInsert::kMruEnd;
  const auto wm = replay_policy(t, {}, sl, mru, wrong);
  EXPECT_GT(w.total.hits, wm.total.hits);
}

TEST(Planner, ChoosesPinnedWhenLruThrashes) {
  // Expert 0 every other token, a different one between: with 1 slot LRU never hits, pinned
  // (and LFU's eviction of its only resident) cannot beat keeping 0.
  std::vector<std::vector<int16_t>> tokens;
  for (int i = 0; i < 200; ++i) {
    tokens.push_back({0});
    tokens.push_back({static_cast<int16_t>(1 + i % 7)});
  }
  const auto t = trace_of(tokens, 8);
  const std::vector<int> sl = {1};
  const auto plan = plan_cache_policy(t, profile_from_trace(t), sl);
  EXPECT_EQ(plan.chosen.kind, CachePolicyKind::kPinned) << plan.reason;
  ASSERT_EQ(plan.replays.size(), planner_candidates().size());
  EXPECT_EQ(plan.replays[0].total.hits, 199u);  // pinned: every 0 but the first
  EXPECT_EQ(plan.replays[1].total.hits, 0u);    // lru
}

TEST(Planner, ChoosesDynamicWhenHotSetMoves) {
  // Phases of 50 tokens, each on its own pair of experts: pinning the overall hottest two keeps
  // one phase's pair; LRU follows every phase.
  std::vector<std::vector<int16_t>> tokens;
  for (int phase = 0; phase < 4; ++phase) {
    for (int i = 0; i < 50; ++i) {
      tokens.push_back({static_cast<int16_t>(2 * phase + i % 2)});
    }
  }
  const auto t = trace_of(tokens, 8);
  const std::vector<int> sl = {2};
  const auto plan = plan_cache_policy(t, profile_from_trace(t), sl);
  EXPECT_NE(plan.chosen.kind, CachePolicyKind::kPinned) << plan.reason;
  for (const auto& r : plan.replays) {
    const auto chosen =
        std::find_if(plan.replays.begin(), plan.replays.end(),
                     [&](const ReplayResult& x) { return x.label == plan.chosen.label(); });
    ASSERT_NE(chosen, plan.replays.end());
    EXPECT_GE(chosen->total.hits, r.total.hits) << r.label;
  }
}

TEST(Planner, PerLayerChoiceAndReplay) {
  // Layer 0: the thrash pattern (pinned wins); layer 1: moving phases (a dynamic policy wins).
  RoutingTrace t;
  t.n_expert = 8;
  t.top_k = 1;
  t.layers.resize(2);
  for (int i = 0; i < 400; ++i) {
    const int16_t e0 = i % 2 == 0 ? 0 : static_cast<int16_t>(1 + (i / 2) % 7);
    const int16_t e1 = static_cast<int16_t>(2 * (i / 100) + i % 2);
    t.layers[0].push(std::span(&e0, 1));
    t.layers[1].push(std::span(&e1, 1));
  }
  const auto prior = profile_from_trace(t);
  const std::vector<int> sl = {1, 2};
  const auto plan = plan_cache_policy(t, prior, sl);
  ASSERT_EQ(plan.per_layer.size(), 2u);
  EXPECT_EQ(plan.per_layer[0].kind, CachePolicyKind::kPinned);
  EXPECT_NE(plan.per_layer[1].kind, CachePolicyKind::kPinned);
  const auto mixed = replay_per_layer(t, prior, sl, plan.per_layer);
  const auto l0 = replay_policy(t, prior, sl, plan.per_layer[0]);
  const auto l1 = replay_policy(t, prior, sl, plan.per_layer[1]);
  EXPECT_EQ(mixed.layers[0].hits, l0.layers[0].hits);
  EXPECT_EQ(mixed.layers[1].hits, l1.layers[1].hits);
  // Per layer it is at least as good as the single choice on the profile it was fitted to.
  EXPECT_GE(mixed.total.hits, replay_policy(t, prior, sl, plan.chosen).total.hits);
}

TEST(SlotAllocation, EqualSplitsRemainderAndCaps) {
  EXPECT_EQ(allocate_slots_equal(10, 4, 8), (std::vector<int>{3, 3, 2, 2}));
  EXPECT_EQ(allocate_slots_equal(100, 2, 8), (std::vector<int>{8, 8}));
  EXPECT_EQ(allocate_slots_equal(0, 2, 8), (std::vector<int>{0, 0}));
}

TEST(SlotAllocation, AdaptiveFavoursFlatLayers) {
  RoutingProfile p;
  p.n_expert = 8;
  p.counts = {{1000, 10, 5, 5, 0, 0, 0, 0},               // skewed: one slot catches almost all
              {100, 100, 100, 100, 100, 100, 100, 100}};  // uniform: each slot is worth 1/8
  const auto a = allocate_slots_adaptive(8, profile_hit_curves(p), 1);
  EXPECT_EQ(std::accumulate(a.begin(), a.end(), 0), 8);
  EXPECT_GT(a[1], a[0]);
  EXPECT_EQ(a, (std::vector<int>{1, 7}));
  // Never beyond a layer's experts; a total below the minimum falls back to equal.
  const auto b = allocate_slots_adaptive(100, profile_hit_curves(p), 1);
  EXPECT_EQ(b, (std::vector<int>{8, 8}));
  EXPECT_EQ(allocate_slots_adaptive(1, profile_hit_curves(p), 1), (std::vector<int>{1, 0}));
  // Adaptive never has fewer static hits than equal on the same curves.
  const auto curves = profile_hit_curves(p);
  const auto eq = allocate_slots_equal(8, 2, 8);
  auto hits = [&](const std::vector<int>& s) {
    return curves[0][static_cast<size_t>(s[0])] + curves[1][static_cast<size_t>(s[1])];
  };
  EXPECT_GE(hits(a), hits(eq));
}

}  // namespace
}  // namespace moe
