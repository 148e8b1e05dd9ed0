// `--policy auto` and `--policy none` in the tiered store (issue 14 item 2): auto runs the
// planner (plan_cache_policy) on the routing profile's recorded trace at the store's slots and
// uses its per-layer choice, saying what and why; without a profile, or with a counts-only
// (version 1) profile, auto is LRU and the reason says so. none keeps nothing: every use is a
// disk read into a staging buffer. Logits stay bit-identical to the file mapping (θ = 0).
#include <gtest/gtest.h>

#include "core/store/mapped_expert_store.h"
#include "core/store/routing_profile.h"
#include "core/store/store_policy_choice.h"
#include "core/store/tiered_expert_store.h"
#include "tests/core/store/tiered_test_util.h"

namespace moe {
namespace {

using tiered_test::bit_identical;
using tiered_test::kQ8;
using tiered_test::Outputs;
using tiered_test::run;

// A recorded profile on which pinning beats every dynamic policy at 2 slots: each layer routes
// to its two hot experts, except every third token, which swaps the second for a cold one.
// LRU / LFU / a 1-pinned hybrid admit the cold expert over the second hot one and miss it on
// the next token; pinned declines the cold one and keeps both hot experts.
RoutingProfile pinned_wins_profile(const Model& m) {
  const int n_expert = m.hparams().n_expert;
  const int16_t hot0 = static_cast<int16_t>(n_expert - 1),
                hot1 = static_cast<int16_t>(n_expert - 3);
  RoutingTrace t;
  t.n_expert = n_expert;
  t.top_k = 2;
  t.layers.resize(static_cast<size_t>(m.n_layer()));
  int16_t cold = 0;
  for (int tok = 0; tok < 300; ++tok) {
    for (LayerRoute& route : t.layers) {
      std::vector<int16_t> chosen = {hot0, hot1};
      if (tok % 3 == 2) {
        while (cold == hot0 || cold == hot1) cold = static_cast<int16_t>((cold + 1) % n_expert);
        chosen[1] = cold;
      }
      route.push(chosen);
    }
    if (tok % 3 == 2) cold = static_cast<int16_t>((cold + 1) % n_expert);
  }
  return profile_from_trace(t, model_identity(m.file()));
}

uint64_t budget_for_slots(const Model& m, int slots) {
  TieredStoreOptions o;
  o.ram_budget_bytes = 1ull << 30;
  auto probe = TieredExpertStore::create(m, o);
  EXPECT_TRUE(probe.ok()) << probe.message();
  return probe.ok() ? (*probe)->min_budget_bytes() * static_cast<uint64_t>(slots) : 0;
}

std::unique_ptr<TieredExpertStore> store_with(const Model& m, CachePolicyKind policy,
                                              RoutingProfile profile) {
  TieredStoreOptions o;
  o.ram_budget_bytes = budget_for_slots(m, 2);
  o.policy = policy;
  o.profile = std::move(profile);
  o.profile_source = "recorded.json";
  auto s = TieredExpertStore::create(m, o);
  EXPECT_TRUE(s.ok()) << s.message();
  if (!s.ok()) return nullptr;
  EXPECT_TRUE((*s)->warm({}).ok());
  return std::move(s).value();
}

struct RunResult {
  Outputs out;
  TieredStoreStats stats;
};

RunResult run_on(const Model& m, TieredExpertStore& store, int n_decode = 8) {
  RunResult r;
  r.out = run(m, store, /*prefetch=*/false, n_decode);
  store.wait_for_loads();
  r.stats = store.stats();
  return r;
}

TEST(StorePolicyAuto, PicksPinnedOnAProfileWherePinningWinsAndRunsExactlyAsPinned) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  ASSERT_GE(model.hparams().n_expert, 4);
  const RoutingProfile profile = pinned_wins_profile(model);
  MappedExpertStore mapped(model);
  const Outputs want = run(model, mapped, false, 8);

  auto autos = store_with(model, CachePolicyKind::kAuto, profile);
  auto pinned = store_with(model, CachePolicyKind::kPinned, profile);
  ASSERT_TRUE(autos && pinned);
  const RunResult a = run_on(model, *autos);
  const RunResult p = run_on(model, *pinned);
  EXPECT_EQ(a.stats.policy, "pinned");
  EXPECT_NE(a.stats.policy_reason.find("planner"), std::string::npos) << a.stats.policy_reason;
  EXPECT_NE(autos->describe().find("pinned (auto: the planner's"), std::string::npos)
      << autos->describe();
  // The same policy in every layer, so the same hits and misses on the same run.
  EXPECT_EQ(a.stats.total.hits, p.stats.total.hits);
  EXPECT_EQ(a.stats.total.misses, p.stats.total.misses);
  EXPECT_GT(a.stats.total.hits + a.stats.total.misses, 0u);
  EXPECT_DOUBLE_EQ(a.stats.hit_rate(), p.stats.hit_rate());
  for (int l = 0; l < model.n_layer(); ++l) EXPECT_EQ(autos->residents(l), pinned->residents(l));
  EXPECT_TRUE(bit_identical(want.prefill, a.out.prefill));
  EXPECT_TRUE(bit_identical(want.decode, a.out.decode));
  EXPECT_LE(a.stats.held_bytes, a.stats.budget_bytes);

  // The planner's reading of the same profile, for the record: pinned has the most hits.
  const std::vector<int> slots(static_cast<size_t>(model.n_layer()), 2);
  const CachePlan plan = plan_cache_policy(profile.trace, profile, slots);
  EXPECT_EQ(plan.chosen.kind, CachePolicyKind::kPinned);
  const HitStats& lru = plan.replays[1].total;
  ASSERT_EQ(plan.replays[1].label, "lru");
  EXPECT_LT(lru.hits, plan.replays[0].total.hits);
}

// A profile of another workload: it makes pinning win on its own trace, but its hot experts are
// the two this run uses least. auto picks pinned, the shadow LRU of each layer out-hits it, and
// the layers fall back to LRU during the run — above the pinned store on the same run, logits
// still bit-identical.
TEST(StorePolicyAuto, ALayerWhoseProfileMisleadsFallsBackToLru) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  const int n_expert = model.hparams().n_expert;
  MappedExpertStore mapped(model);
  const Outputs want = run(model, mapped, false, 40);
  // The run's least used experts, from an LRU store's statistics.
  auto probe = store_with(model, CachePolicyKind::kLru, {});
  ASSERT_TRUE(probe);
  const TieredStoreStats used = run_on(model, *probe, 40).stats;
  RoutingProfile wrong = pinned_wins_profile(model);
  for (int l = 0; l < model.n_layer(); ++l) {
    std::vector<int> order(static_cast<size_t>(n_expert));
    for (int e = 0; e < n_expert; ++e) order[static_cast<size_t>(e)] = e;
    auto uses = [&](int e) {
      const ExpertStats& s = used.experts[static_cast<size_t>(l * n_expert + e)];
      return s.hits + s.misses;
    };
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return uses(a) < uses(b); });
    // Swap the profile's hot pair (n-1, n-3) with the run's two coldest experts, trace and counts.
    const int from[2] = {n_expert - 1, n_expert - 3};
    std::vector<int> map(static_cast<size_t>(n_expert));
    for (int e = 0; e < n_expert; ++e) map[static_cast<size_t>(e)] = e;
    for (int i = 0; i < 2; ++i)
      std::swap(map[static_cast<size_t>(from[i])],
                map[static_cast<size_t>(order[static_cast<size_t>(i)])]);
    LayerRoute route;
    const LayerRoute& old = wrong.trace.layers[static_cast<size_t>(l)];
    for (size_t t = 0; t < old.n_tokens(); ++t) {
      std::vector<int16_t> chosen;
      for (const int16_t e : old.token(t))
        chosen.push_back(static_cast<int16_t>(map[static_cast<size_t>(e)]));
      route.push(chosen);
    }
    wrong.trace.layers[static_cast<size_t>(l)] = std::move(route);
  }
  wrong = profile_from_trace(wrong.trace, wrong.model);

  auto pinned = store_with(model, CachePolicyKind::kPinned, wrong);
  auto autos = store_with(model, CachePolicyKind::kAuto, wrong);
  ASSERT_TRUE(pinned && autos);
  EXPECT_EQ(autos->stats().policy, "pinned");  // the planner's in-sample choice
  const RunResult p = run_on(model, *pinned, 40);
  const RunResult a = run_on(model, *autos, 40);
  EXPECT_NE(a.stats.policy_reason.find("fell back to lru"), std::string::npos)
      << a.stats.policy_reason;
  EXPECT_NE(a.stats.policy, "pinned");
  EXPECT_GT(a.stats.hit_rate(), p.stats.hit_rate()) << a.stats.policy_reason;
  EXPECT_TRUE(bit_identical(want.prefill, a.out.prefill));
  EXPECT_TRUE(bit_identical(want.decode, a.out.decode));
  EXPECT_LE(a.stats.held_bytes, a.stats.budget_bytes);
  EXPECT_EQ(a.stats.in_use_bytes, 0u);
}

TEST(StorePolicyAuto, WithoutATraceAutoIsLruAndSaysWhy) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  auto bare = store_with(**m, CachePolicyKind::kAuto, {});
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->stats().policy, "lru");
  EXPECT_NE(bare->stats().policy_reason.find("no routing profile"), std::string::npos)
      << bare->stats().policy_reason;
  // A version 1 profile (counts only) cannot drive the planner: LRU, and what to record.
  RoutingProfile counts_only = pinned_wins_profile(**m);
  counts_only.trace = {};
  auto old = store_with(**m, CachePolicyKind::kAuto, counts_only);
  ASSERT_TRUE(old);
  const std::string reason = old->stats().policy_reason;
  EXPECT_EQ(old->stats().policy, "lru");
  EXPECT_NE(reason.find("recorded.json holds counts only"), std::string::npos) << reason;
  EXPECT_NE(reason.find("moe-cli profile --trace"), std::string::npos) << reason;
  // A policy asked for is used as asked.
  auto lfu = store_with(**m, CachePolicyKind::kLfu, pinned_wins_profile(**m));
  ASSERT_TRUE(lfu);
  EXPECT_EQ(lfu->stats().policy, "lfu");
  EXPECT_EQ(lfu->stats().policy_reason, "as asked");
}

// Layer 0 as above (pinning wins); layer 1 routes to experts {0, 1} for 150 tokens, then to
// {2, 3}: pinned keeps the first pair (equal counts, lower ids) and misses the whole second
// phase, LRU follows it. The per-layer choice differs, and the label says so.
TEST(StorePolicyAuto, PerLayerChoicesAreLabelledByUse) {
  RoutingTrace t;
  t.n_expert = 4;
  t.top_k = 2;
  t.layers.resize(2);
  for (int tok = 0; tok < 300; ++tok) {
    const std::vector<int16_t> l0 =
        tok % 3 == 2 ? std::vector<int16_t>{3, static_cast<int16_t>(tok / 3 % 2 ? 0 : 2)}
                     : std::vector<int16_t>{3, 1};
    const std::vector<int16_t> l1 =
        tok < 150 ? std::vector<int16_t>{0, 1} : std::vector<int16_t>{2, 3};
    t.layers[0].push(l0);
    t.layers[1].push(l1);
  }
  const RoutingProfile p = profile_from_trace(t);
  const std::vector<int> slots = {2, 2};
  const StorePolicyChoice c = choose_store_policy(CachePolicyKind::kAuto, p, "p.json", slots);
  ASSERT_EQ(c.layers.size(), 2u);
  EXPECT_EQ(c.layers[0].kind, CachePolicyKind::kPinned);
  EXPECT_EQ(c.layers[1].kind, CachePolicyKind::kLru);
  EXPECT_EQ(c.label, "per layer: lru x1, pinned x1");
}

TEST(StorePolicyNone, EveryUseIsADiskReadAndLogitsStayExact) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  MappedExpertStore mapped(model);
  const Outputs want = run(model, mapped, false, 8);
  auto none = store_with(model, CachePolicyKind::kNone, {});
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->wants_prefetch());
  EXPECT_EQ(none->warm_bytes(), 0u);
  const RunResult r = run_on(model, *none);
  EXPECT_TRUE(bit_identical(want.prefill, r.out.prefill));
  EXPECT_TRUE(bit_identical(want.decode, r.out.decode));
  EXPECT_EQ(r.stats.policy, "none");
  EXPECT_EQ(r.stats.total.hits, 0u);
  EXPECT_GT(r.stats.total.misses, 0u);
  EXPECT_GT(r.stats.total.bytes_read, 0u);
  EXPECT_EQ(r.stats.total.prefetch_issued, 0u);
  EXPECT_EQ(r.stats.held_bytes, 0u);  // staging buffers are freed at release
  for (int l = 0; l < model.n_layer(); ++l) {
    EXPECT_EQ(r.stats.layer_slots[static_cast<size_t>(l)], 0);
    EXPECT_TRUE(none->residents(l).empty());
  }
  // A live budget change gives it no slots either.
  ASSERT_TRUE(none->set_ram_budget(none->all_experts_bytes()).ok());
  EXPECT_EQ(none->stats().layer_slots[0], 0);
}

// The oracle starts where the store's warm-up left it: with every expert resident (a 100 %
// budget) neither the policy nor Belady misses, and at 3 of 4 slots Belady stays above LRU.
// (Started empty, the oracle paid compulsory misses the warmed store never had and fell below
// the policy it is meant to bound.)
TEST(StoreOracle, StartsFromTheWarmResidents) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  for (const int slots : {model.hparams().n_expert, model.hparams().n_expert - 1}) {
    SCOPED_TRACE(slots);
    TieredStoreOptions o;
    o.ram_budget_bytes = budget_for_slots(model, slots);
    o.policy = CachePolicyKind::kLru;
    o.prefetch = false;
    auto s = TieredExpertStore::create(model, o);
    ASSERT_TRUE(s.ok()) << s.message();
    ASSERT_TRUE((*s)->warm({}).ok());
    const RunResult r = run_on(model, **s);
    const HitStats oracle = (*s)->oracle_hits();
    EXPECT_EQ(oracle.accesses, r.stats.total.hits + r.stats.total.misses);
    EXPECT_GE(oracle.rate(), r.stats.hit_rate());
    if (slots == model.hparams().n_expert) {
      EXPECT_EQ(oracle.hits, oracle.accesses);
    }
  }
}

}  // namespace
}  // namespace moe
