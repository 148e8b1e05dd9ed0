// The tiered store with a recorded routing profile (issue 14 item 2): pinned and hybrid keep
// the profile's hottest experts from the start (not ids 0, 1, ...), LFU starts from its counts,
// logits stay bit-identical, and the assembly loads the model's saved profile or an explicit
// one, refusing a profile of another model with a message naming both.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "core/deploy/assemble.h"
#include "core/store/mapped_expert_store.h"
#include "core/store/routing_profile.h"
#include "core/store/tiered_expert_store.h"
#include "tests/core/store/tiered_test_util.h"
#include "tests/core/temp_dir_test.h"

namespace moe {
namespace {

using tiered_test::bit_identical;
using tiered_test::kF32;
using tiered_test::kQ8;
using tiered_test::Outputs;
using tiered_test::run;

// The two experts every layer of the profile routes to most: not the first ids, so a store
// that ignores the profile (pinning 0, 1, ...) fails.
std::vector<int> hot_experts(int n_expert) { return {n_expert - 1, n_expert - 3}; }

RoutingProfile skewed_profile(const Model& m) {
  RoutingProfile p;
  p.model = model_identity(m.file());
  p.n_expert = m.hparams().n_expert;
  p.n_tokens = 100;
  const std::vector<int> hot = hot_experts(p.n_expert);
  for (int l = 0; l < m.n_layer(); ++l) {
    std::vector<uint64_t> c(static_cast<size_t>(p.n_expert), 1);
    c[static_cast<size_t>(hot[0])] = 90;
    c[static_cast<size_t>(hot[1])] = 60;
    p.counts.push_back(std::move(c));
  }
  return p;
}

uint64_t slot_bytes(const Model& m) {
  TieredStoreOptions o;
  o.ram_budget_bytes = 1ull << 30;
  auto probe = TieredExpertStore::create(m, o);
  EXPECT_TRUE(probe.ok()) << probe.message();
  return probe.ok() ? (*probe)->min_budget_bytes() / static_cast<uint64_t>(m.n_layer()) : 0;
}

std::unique_ptr<TieredExpertStore> profiled_store(const Model& m, CachePolicyKind policy,
                                                  int slots, bool with_profile) {
  TieredStoreOptions o;
  o.ram_budget_bytes = slot_bytes(m) * static_cast<uint64_t>(slots * m.n_layer());
  o.policy = policy;
  if (with_profile) {
    o.profile = skewed_profile(m);
    o.profile_source = "test-profile.json";
  }
  auto s = TieredExpertStore::create(m, o);
  EXPECT_TRUE(s.ok()) << s.message();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(TieredStoreProfile, PinnedAndHybridHoldTheProfilesHottestExpertsFromTheStart) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  const int n_expert = model.hparams().n_expert;
  ASSERT_GE(n_expert, 4);
  const std::vector<int> hot = hot_experts(n_expert);
  const std::set<int> hot_set(hot.begin(), hot.end());
  for (const CachePolicyKind policy : {CachePolicyKind::kPinned, CachePolicyKind::kHybrid}) {
    SCOPED_TRACE(cache_policy_name(policy));
    // Hybrid pins half its slots: 4 slots -> the 2 hot experts pinned, 2 LRU slots.
    const int slots = policy == CachePolicyKind::kPinned ? 2 : 4;
    auto store = profiled_store(model, policy, slots, true);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->warm({}).ok());
    EXPECT_NE(store->describe().find("profile test-profile.json"), std::string::npos)
        << store->describe();
    const TieredStoreStats s = store->stats();
    for (int l = 0; l < model.n_layer(); ++l) {
      const std::vector<int> r = store->residents(l);
      for (const int e : hot) {
        EXPECT_TRUE(std::find(r.begin(), r.end(), e) != r.end()) << "layer " << l << " expert " << e;
        EXPECT_EQ(s.residency[static_cast<size_t>(l * n_expert + e)], ExpertResidency::kPinned);
      }
      if (policy == CachePolicyKind::kPinned) {
        EXPECT_EQ(std::set<int>(r.begin(), r.end()), hot_set);
      }
    }
  }
  // Without a profile the backend line says so (pinned then keeps ids 0, 1, ...).
  auto plain = profiled_store(model, CachePolicyKind::kPinned, 2, false);
  ASSERT_TRUE(plain);
  EXPECT_NE(plain->describe().find("no routing profile"), std::string::npos);
}

TEST(TieredStoreProfile, LogitsStayBitIdenticalWithAProfileAndBytesInBudget) {
  for (const char* path : {kQ8.c_str(), kF32.c_str()}) {
    auto m = Model::load(path);
    ASSERT_TRUE(m.ok()) << m.message();
    const Model& model = **m;
    MappedExpertStore mapped(model);
    const Outputs want = run(model, mapped, false);
    for (const CachePolicyKind policy :
         {CachePolicyKind::kPinned, CachePolicyKind::kHybrid, CachePolicyKind::kLfu}) {
      SCOPED_TRACE(std::string(path) + " " + cache_policy_name(policy));
      auto store = profiled_store(model, policy, 2, true);
      ASSERT_TRUE(store);
      ASSERT_TRUE(store->warm({}).ok());
      const Outputs got = run(model, *store, true);
      EXPECT_TRUE(bit_identical(want.prefill, got.prefill));
      EXPECT_TRUE(bit_identical(want.decode, got.decode));
      store->wait_for_loads();
      const TieredStoreStats s = store->stats();
      EXPECT_EQ(s.in_use_bytes, 0u);
      EXPECT_LE(s.held_bytes, s.budget_bytes);
    }
  }
}

TEST(TieredStoreProfile, AProfileOfOtherDimensionsIsAClearError) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  TieredStoreOptions o;
  o.ram_budget_percent = 50;
  o.policy = CachePolicyKind::kPinned;
  o.profile = skewed_profile(**m);
  o.profile.counts.pop_back();
  o.profile_source = "short.json";
  auto s = TieredExpertStore::create(**m, o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("short.json"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("another model"), std::string::npos) << s.message();
}

// Layer 0 routes uniformly, layer 1 to two experts only: extra slots help layer 0 alone.
RoutingProfile flat_then_concentrated(const Model& m) {
  RoutingProfile p = skewed_profile(m);
  const std::vector<int> hot = hot_experts(p.n_expert);
  std::fill(p.counts[0].begin(), p.counts[0].end(), 25);
  std::fill(p.counts[1].begin(), p.counts[1].end(), 0);
  for (const int e : hot) p.counts[1][static_cast<size_t>(e)] = 100;
  return p;
}

TEST(TieredStoreProfile, AdaptiveSlotsFollowTheProfileAndStayInBudgetThroughLiveChanges) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  ASSERT_EQ(model.n_layer(), 2);
  ASSERT_EQ(model.hparams().n_expert, 4);
  ASSERT_EQ(model.hparams().n_expert_used, 2);
  MappedExpertStore mapped(model);
  const Outputs want = run(model, mapped, false, 24);
  const uint64_t slot = slot_bytes(model);
  TieredStoreOptions o;
  o.ram_budget_bytes = 6 * slot;  // 3 slots per layer if split equally
  o.policy = CachePolicyKind::kLru;
  o.profile = flat_then_concentrated(model);
  o.profile_source = "p.json";
  o.adaptive_slots = true;
  auto created = TieredExpertStore::create(model, o);
  ASSERT_TRUE(created.ok()) << created.message();
  TieredExpertStore& store = **created;
  // k = 2 each, then both spare slots to the flat layer (the other gains nothing from them).
  EXPECT_EQ(store.stats().layer_slots, (std::vector<int>{4, 2}));
  EXPECT_NE(store.describe().find("2-4/4 slots per layer (adaptive)"), std::string::npos)
      << store.describe();
  ASSERT_TRUE(store.warm({}).ok());
  EXPECT_LE(store.held_bytes(), 6 * slot);

  // Budgets of 3 slots (below k per layer: an equal 2 + 1), 7 (4 + 3) and 5 (3 + 2), changed
  // between decode steps while prefetches are in flight.
  const uint64_t budgets[] = {3 * slot, 7 * slot, 5 * slot, 6 * slot};
  const std::vector<int> splits[] = {{2, 1}, {4, 3}, {3, 2}, {4, 2}};
  int violations = 0;
  const Outputs got = run(model, store, true, 24, [&](int step) {
    const size_t i = static_cast<size_t>(step) % 4;
    ASSERT_TRUE(store.set_ram_budget(budgets[i]).ok());
    const TieredStoreStats s = store.stats();
    EXPECT_EQ(s.layer_slots, splits[i]) << "step " << step;
    if (s.held_bytes > s.budget_bytes + s.in_use_bytes) ++violations;
  });
  EXPECT_TRUE(bit_identical(want.prefill, got.prefill));
  EXPECT_TRUE(bit_identical(want.decode, got.decode));
  EXPECT_EQ(violations, 0);
  store.wait_for_loads();
  ASSERT_TRUE(store.set_ram_budget(3 * slot).ok());
  const TieredStoreStats s = store.stats();
  EXPECT_LE(s.held_bytes, 3 * slot);
  EXPECT_LE(s.n_resident[0], 2);
  EXPECT_LE(s.n_resident[1], 1);

  // Adaptive slots without a profile: a clear error, not a silent equal split.
  o.profile = {};
  auto bare = TieredExpertStore::create(model, o);
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.message().find("routing profile"), std::string::npos) << bare.message();
}

class AssembledProfile : public test::TempDirTest {
 protected:
  AssembledProfile() : TempDirTest("moe_store_profile_", 120) {}
  void SetUp() override {
    TempDirTest::SetUp();
    const char* old = std::getenv("XDG_CACHE_HOME");
    old_xdg_ = old ? old : "";
    had_xdg_ = old != nullptr;
    setenv("XDG_CACHE_HOME", dir_.c_str(), 1);
  }
  void TearDown() override {
    if (had_xdg_) {
      setenv("XDG_CACHE_HOME", old_xdg_.c_str(), 1);
    } else {
      unsetenv("XDG_CACHE_HOME");
    }
    TempDirTest::TearDown();
  }
  static Deployment tiered(CachePolicyKind policy) {
    Deployment d;
    d.model_path = kQ8;
    d.n_threads = 2;
    d.store = StoreKind::kTiered;
    d.ram_budget = RamBudget{0, 50};
    d.cache_policy = policy;
    return d;
  }

 private:
  std::string old_xdg_;
  bool had_xdg_ = false;
};

TEST_F(AssembledProfile, TheModelsSavedProfileIsUsedAtStart) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const RoutingProfile p = skewed_profile(**m);
  auto path = default_profile_path(p.model);
  ASSERT_TRUE(path.ok()) << path.message();
  ASSERT_EQ(path->rfind(dir_.string(), 0), 0u) << *path;
  ASSERT_TRUE(save_profile(p, *path).ok());

  auto b = assemble(tiered(CachePolicyKind::kPinned));
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_NE((*b)->describe().find("profile " + *path), std::string::npos) << (*b)->describe();
  auto* store = dynamic_cast<TieredExpertStore*>((*b)->store.get());
  ASSERT_NE(store, nullptr);
  const int n_expert = (*m)->hparams().n_expert;
  for (const int e : hot_experts(n_expert)) {
    const std::vector<int> r = store->residents(0);
    EXPECT_TRUE(std::find(r.begin(), r.end(), e) != r.end()) << "expert " << e;
  }
  // LRU does not read profiles: the saved one is not loaded (nor named).
  auto lru = assemble(tiered(CachePolicyKind::kLru));
  ASSERT_TRUE(lru.ok()) << lru.message();
  EXPECT_EQ((*lru)->describe().find("profile"), std::string::npos) << (*lru)->describe();
}

TEST_F(AssembledProfile, AnExplicitProfileOfAnotherModelIsRefused) {
  auto other = Model::load(kF32);
  ASSERT_TRUE(other.ok()) << other.message();
  const std::string path = (dir_ / "f32.json").string();
  ASSERT_TRUE(save_profile(skewed_profile(**other), path).ok());
  Deployment d = tiered(CachePolicyKind::kHybrid);
  d.profile_path = path;
  auto b = assemble(d);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.message().find("mixtral_tiny_f32.gguf"), std::string::npos) << b.message();
  EXPECT_NE(b.message().find("mixtral_tiny_q8_0.gguf"), std::string::npos) << b.message();

  // A profile with the mapped store is a setting error, not silently ignored.
  Deployment mapped;
  mapped.model_path = kQ8;
  mapped.profile_path = path;
  const Status st = validate(mapped);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tiered"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace moe
