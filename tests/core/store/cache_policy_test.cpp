// The replacement policies on hand-made sequences: LRU order, LFU counts and ties, pinned sets,
// the hybrid core, speculative admissions, live slot changes.
#include "core/store/cache_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace moe {
namespace {

/// One demand access as the store makes it; returns what admit() returned (or 0 on a hit).
int use(LayerCache& c, int e, const Evictable& ev = {}) {
  const bool hit = c.resident(e);
  c.on_access(e);
  return hit ? 0 : c.admit(e, ev, false);
}

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(CachePolicy, ParseNames) {
  for (auto k : {CachePolicyKind::kLru, CachePolicyKind::kLfu, CachePolicyKind::kPinned,
                 CachePolicyKind::kHybrid}) {
    auto p = parse_cache_policy(cache_policy_name(k));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, k);
  }
  auto bad = parse_cache_policy("mru");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("'mru'"), std::string::npos);
}

TEST(CachePolicy, RankByProfileTiesToLowerId) {
  const std::vector<uint64_t> prof = {5, 9, 5, 0};
  EXPECT_EQ(rank_by_profile(4, prof), (std::vector<int>{1, 0, 2, 3}));
  EXPECT_EQ(rank_by_profile(3, {}), (std::vector<int>{0, 1, 2}));
}

TEST(LruCache, EvictsLeastRecentlyUsed) {
  auto c = make_layer_cache(CachePolicyKind::kLru, 8, 3);
  EXPECT_EQ(use(*c, 1), kAdmittedFree);
  EXPECT_EQ(use(*c, 2), kAdmittedFree);
  EXPECT_EQ(use(*c, 3), kAdmittedFree);
  EXPECT_EQ(use(*c, 1), 0);  // hit: 1 becomes MRU; order 1 3 2
  EXPECT_EQ(use(*c, 4), 2);
  EXPECT_EQ(use(*c, 5), 3);
  EXPECT_EQ(c->residents(), (std::vector<int>{5, 4, 1}));  // MRU first
  // 1 is held: the next victim is the LRU among the others.
  EXPECT_EQ(use(*c, 6, [](int e) { return e != 1; }), 4);
  EXPECT_EQ(c->admit(
                7, [](int) { return false; }, false),
            kNotAdmitted);
}

TEST(LruCache, SpeculativeGoesToLruEndByDefault) {
  auto c = make_layer_cache(CachePolicyKind::kLru, 8, 3);
  use(*c, 1);
  use(*c, 2);
  EXPECT_EQ(c->admit(5, {}, /*speculative=*/true), kAdmittedFree);
  EXPECT_EQ(c->residents(), (std::vector<int>{2, 1, 5}));
  EXPECT_EQ(use(*c, 3), 5);  // the unused guess leaves first
  // A guess that is used moves to the MRU end like any access.
  EXPECT_EQ(c->admit(6, {}, true), 1);
  use(*c, 6);
  EXPECT_EQ(c->residents().front(), 6);
}

TEST(LruCache, SpeculativeAtMruWhenAsked) {
  LayerCacheOptions o;
  o.kind = CachePolicyKind::kLru;
  o.slots = 3;
  o.speculative = SpeculativeInsert::kMruEnd;
  auto c = make_layer_cache(o);
  use(*c, 1);
  use(*c, 2);
  c->admit(5, {}, true);
  EXPECT_EQ(use(*c, 3), 1);
}

TEST(LfuCache, PriorCountsAndRecencyTies) {
  const std::vector<uint64_t> prof = {0, 10, 0, 0, 0};
  auto c = make_layer_cache(CachePolicyKind::kLfu, 5, 2, prof);
  use(*c, 1);                // count 11
  use(*c, 2);                // count 1
  EXPECT_EQ(use(*c, 3), 2);  // 2 (1) vs 1 (11): 2 goes
  use(*c, 3);                // 3 now 2
  EXPECT_EQ(use(*c, 4), 3);  // 3 (2) still below 1 (11)
  EXPECT_EQ(use(*c, 0), 4);  // 4 (1) is the lowest count; the newcomer goes in regardless
  // Equal counts: the least recently used leaves.
  auto t = make_layer_cache(CachePolicyKind::kLfu, 5, 2);
  use(*t, 0);
  use(*t, 1);
  EXPECT_EQ(use(*t, 2), 0);  // 0 and 1 count 1; 0 is older
}

TEST(LfuCache, SpeculativeNeverDisplacesHotter) {
  const std::vector<uint64_t> prof = {5, 5, 1, 9};
  auto c = make_layer_cache(CachePolicyKind::kLfu, 4, 2, prof);
  use(*c, 0);
  use(*c, 1);
  EXPECT_EQ(c->admit(2, {}, true), kNotAdmitted);  // 1 < 6
  EXPECT_EQ(c->admit(3, {}, true), 0);             // 9 > 6 (0 older than 1 on the tie)
  EXPECT_EQ(sorted(c->residents()), (std::vector<int>{1, 3}));
}

TEST(PinnedCache, KeepsHottestAndDeclinesOthers) {
  const std::vector<uint64_t> prof = {1, 50, 3, 40, 2, 0, 0, 0};
  auto c = make_layer_cache(CachePolicyKind::kPinned, 8, 2, prof);
  EXPECT_EQ(c->pinned(), (std::vector<int>{1, 3}));
  EXPECT_EQ(use(*c, 0), kNotAdmitted);
  EXPECT_EQ(use(*c, 1), kAdmittedFree);
  EXPECT_EQ(c->admit(5, {}, true), kNotAdmitted);
  EXPECT_EQ(c->admit(3, {}, true), kAdmittedFree);  // warm list / prefetch of a pinned one
  for (int e : {0, 2, 4, 5, 6, 7, 0, 2}) EXPECT_EQ(use(*c, e), kNotAdmitted);
  EXPECT_EQ(sorted(c->residents()), (std::vector<int>{1, 3}));
  // Shrinking: 3 loses its pin and is the one evicted.
  c->set_slots(1);
  EXPECT_EQ(c->evict_one({}), 3);
  EXPECT_EQ(c->pinned(), (std::vector<int>{1}));
}

TEST(HybridCache, PinnedCoreSurvivesLruChurn) {
  const std::vector<uint64_t> prof = {0, 0, 100, 0, 0, 0};
  auto c = make_layer_cache(CachePolicyKind::kHybrid, 6, 3, prof, /*pinned_slots=*/1);
  EXPECT_EQ(c->pinned(), (std::vector<int>{2}));
  use(*c, 2);
  use(*c, 0);
  use(*c, 1);
  // 2 is the LRU but pinned: 0 goes, then 1, then 3 ...
  EXPECT_EQ(use(*c, 3), 0);
  EXPECT_EQ(use(*c, 4), 1);
  EXPECT_EQ(use(*c, 5), 3);
  EXPECT_TRUE(c->resident(2));
  // With no pinned slots it is LRU.
  auto lru = make_layer_cache(CachePolicyKind::kHybrid, 6, 2, prof, 0);
  use(*lru, 2);
  use(*lru, 0);
  EXPECT_EQ(use(*lru, 1), 2);
}

TEST(HybridCache, PinnedArrivalEvictsUnpinnedAndCoreIsNeverDisplaced) {
  const std::vector<uint64_t> prof = {9, 8, 0, 0};
  auto c = make_layer_cache(CachePolicyKind::kHybrid, 4, 2, prof, 2);
  EXPECT_EQ(use(*c, 2), kAdmittedFree);  // an unpinned one may use a free slot
  use(*c, 0);
  EXPECT_EQ(use(*c, 1), 2);             // pinned 1 arrives: the unpinned 2 leaves
  EXPECT_EQ(use(*c, 3), kNotAdmitted);  // every slot pinned: unpinned 3 is declined
  EXPECT_EQ(c->admit(3, {}, true), kNotAdmitted);
}

TEST(HybridCache, SpeculativeUnpinnedAtLruEnd) {
  const std::vector<uint64_t> prof = {9, 0, 0, 0, 0};
  auto c = make_layer_cache(CachePolicyKind::kHybrid, 5, 3, prof, 1);
  use(*c, 0);
  use(*c, 1);
  c->admit(4, {}, true);
  EXPECT_EQ(use(*c, 2), 4);
}

TEST(CachePolicy, ZeroSlotsAdmitNothing) {
  for (auto k : {CachePolicyKind::kLru, CachePolicyKind::kLfu, CachePolicyKind::kPinned,
                 CachePolicyKind::kHybrid}) {
    auto c = make_layer_cache(k, 4, 0, std::vector<uint64_t>{1, 2, 3, 4}, 0);
    EXPECT_EQ(use(*c, 3), kNotAdmitted) << cache_policy_name(k);
    EXPECT_EQ(c->n_resident(), 0);
  }
}

TEST(CachePolicy, ShrinkThenEvictToFit) {
  const std::vector<uint64_t> prof = {4, 3, 2, 1};
  for (auto k : {CachePolicyKind::kLru, CachePolicyKind::kLfu, CachePolicyKind::kPinned,
                 CachePolicyKind::kHybrid}) {
    auto c = make_layer_cache(k, 4, 4, prof, 2);
    for (int e = 0; e < 4; ++e) use(*c, e);
    EXPECT_EQ(c->n_resident(), 4) << cache_policy_name(k);
    c->set_slots(1);
    while (c->n_resident() > c->slots()) ASSERT_GE(c->evict_one({}), 0);
    EXPECT_EQ(c->n_resident(), 1);
    if (k == CachePolicyKind::kPinned || k == CachePolicyKind::kHybrid) {
      EXPECT_EQ(c->residents(), (std::vector<int>{0})) << cache_policy_name(k);
    }
  }
}

}  // namespace
}  // namespace moe
