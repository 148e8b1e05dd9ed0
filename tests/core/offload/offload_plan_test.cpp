// `moe-cli plan`'s arithmetic (core/offload/offload_plan.h) on the golden tiny Mixtral (2 layers
// x 4 experts, top-2): slots as the tiered store sizes them, bytes per tier that add up to the
// file's expert bytes, hit rates equal to the replay's on the same trace (what cache-sim
// prints), the pinned experts of a profile, and the latency sum from the stated model.
#include <gtest/gtest.h>

#include <cmath>

#include "core/offload/offload_plan.h"
#include "core/store/cache_replay.h"
#include "core/store/expert_reads.h"
#include "core/store/tiered_expert_store.h"

namespace moe {
namespace {

const std::string kQ8 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_q8_0.gguf";

class Plan : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = Model::load(kQ8);
    ASSERT_TRUE(m.ok()) << m.message();
    model_ = std::move(m).value();
  }
  Result<OffloadPlan> plan(const std::string& budget, PlanRequest rq = {}) {
    auto b = parse_ram_budget(budget);
    EXPECT_TRUE(b.ok()) << b.message();
    rq.budget = *b;
    return plan_offload(*model_, rq);
  }
  std::unique_ptr<Model> model_;
};

TEST_F(Plan, BytesPerTierAddUpAndSlotsAreTheStores) {
  for (const char* budget : {"25%", "50%", "75%", "100%", "3MiB"}) {
    auto p = plan(budget);
    ASSERT_TRUE(p.ok()) << budget << ": " << p.message();
    EXPECT_EQ(p->expert_ram_bytes + p->expert_disk_bytes, model_->expert_bytes()) << budget;
    EXPECT_EQ(p->expert_bytes, model_->expert_bytes());
    EXPECT_EQ(p->non_expert_bytes, model_->non_expert_bytes());
    EXPECT_LE(p->slot_bytes_held, p->budget_bytes) << budget;
    EXPECT_EQ(p->slot_bytes, max_expert_read_bytes(*model_));
    TieredStoreOptions o;
    o.ram_budget_bytes = p->budget_bytes;
    auto store = TieredExpertStore::create(*model_, o);
    ASSERT_TRUE(store.ok()) << store.message();
    const TieredStoreStats st = (*store)->stats();
    ASSERT_EQ(p->layers.size(), st.layer_slots.size());
    for (size_t l = 0; l < p->layers.size(); ++l) {
      EXPECT_EQ(p->layers[l].slots, st.layer_slots[l]) << budget << " layer " << l;
    }
    const uint64_t per_expert = model_->expert_bytes() / (2 * 4);
    EXPECT_EQ(p->expert_ram_bytes, per_expert * static_cast<uint64_t>(st.layer_slots[0] * 2));
  }
  auto p = plan("100%");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->expert_disk_bytes, 0u);
  EXPECT_DOUBLE_EQ(p->hit_rate, 1.0);
  EXPECT_EQ(p->load_s, 0);
}

TEST_F(Plan, UniformEstimateAndTheStatedLatencySum) {
  OffloadCalibration c;
  c.read_bytes = max_expert_read_bytes(*model_);
  c.read_s = 0.002;
  c.read_s_min = c.read_s_max = 0.002;
  c.parallel_readers = 2;
  c.parallel_bytes_per_s = 1.5 * c.s_dc();
  c.compute_s = 0.0001;
  c.source = "test";
  PlanRequest rq;
  rq.calibration = &c;
  rq.n_threads = 2;
  auto p = plan("50%", rq);  // 2 of 4 slots
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_DOUBLE_EQ(p->hit_rate, 0.5);
  EXPECT_NE(p->hit_rate_source.find("uniform"), std::string::npos);
  EXPECT_EQ(p->policy, "lru");
  EXPECT_EQ(p->speeds_source, "calibration (test)");
  // k = 2, h = 0.5: one miss with probability 1/2, two with 1/4.
  const LoadLatencyModel lm = c.load_model();
  const double layer = 0.5 * lm.reads_s(1, 2) + 0.25 * lm.reads_s(2, 2);
  EXPECT_NEAR(p->layers[0].load_s, layer, 1e-15);
  EXPECT_NEAR(p->load_s, 2 * layer, 1e-15);
  EXPECT_DOUBLE_EQ(p->experts_s, 2 * 1 * 0.0001);  // 2 layers x ceil(2 / 2 threads) x compute
  EXPECT_GT(p->other_s, 0);
  EXPECT_NEAR(p->tok_per_s, 1 / (p->load_s + p->experts_s + p->other_s), 1e-9);
  // Without a calibration the plan says it runs on priors.
  auto prior = plan("50%");
  ASSERT_TRUE(prior.ok());
  EXPECT_NE(prior->speeds_source.find("priors"), std::string::npos);
  EXPECT_DOUBLE_EQ(prior->load.s_dc(), 1e9);
}

TEST_F(Plan, HitRateIsTheReplaysOnTheSameTrace) {
  SyntheticTraceSpec spec;
  spec.n_layer = 2;
  spec.n_expert = 4;
  spec.top_k = 2;
  spec.n_tokens = 400;
  spec.zipf_s = 1.2;
  const RoutingTrace t = make_synthetic_trace(spec);
  const RoutingTrace profile_part = t.slice(0, 200), replay = t.slice(200, 400);
  const RoutingProfile prior = profile_from_trace(profile_part);
  const std::vector<int> slots = {2, 2};
  for (const CachePolicyKind k : {CachePolicyKind::kLru, CachePolicyKind::kLfu,
                                  CachePolicyKind::kPinned, CachePolicyKind::kHybrid}) {
    PlanRequest rq;
    rq.trace = &t;
    rq.policy = k;
    auto p = plan("50%", rq);
    ASSERT_TRUE(p.ok()) << p.message();
    PolicyConfig pc;
    pc.kind = k;
    const ReplayResult r = replay_policy(replay, prior, slots, pc);
    EXPECT_DOUBLE_EQ(p->hit_rate, r.total.rate()) << cache_policy_name(k);
    for (size_t l = 0; l < 2; ++l) EXPECT_DOUBLE_EQ(p->layers[l].hit_rate, r.layers[l].rate());
    if (k == CachePolicyKind::kPinned) {  // both slots pinned: the profile's two hottest
      for (int l = 0; l < 2; ++l) {
        std::vector<int> hottest = rank_by_profile(4, prior.layer(l));
        hottest.resize(2);
        EXPECT_EQ(p->layers[static_cast<size_t>(l)].pinned, hottest);
      }
    }
  }
  PlanRequest rq;
  rq.trace = &t;
  auto chosen = plan("50%", rq);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->policy, plan_cache_policy(profile_part, prior, slots).chosen.label());
  EXPECT_NE(chosen->policy_reason.find("planner"), std::string::npos);
}

TEST_F(Plan, ProfileAloneGivesTheHottestExpertsShare) {
  RoutingProfile prof;
  prof.n_expert = 4;
  prof.counts = {{70, 20, 5, 5}, {10, 10, 40, 40}};
  PlanRequest rq;
  rq.profile = &prof;
  auto p = plan("50%", rq);
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->policy, "pinned");
  EXPECT_DOUBLE_EQ(p->layers[0].hit_rate, 0.9);
  EXPECT_DOUBLE_EQ(p->layers[1].hit_rate, 0.8);
  EXPECT_DOUBLE_EQ(p->hit_rate, 170.0 / 200.0);
  EXPECT_EQ(p->layers[0].pinned, (std::vector<int>{0, 1}));
  EXPECT_EQ(p->layers[1].pinned, (std::vector<int>{2, 3}));
}

TEST_F(Plan, ErrorsNameTheProblem) {
  auto tiny = plan("1000");
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.message().find("below the minimum"), std::string::npos) << tiny.message();
  SyntheticTraceSpec spec;
  spec.n_layer = 3;
  spec.n_expert = 4;
  spec.n_tokens = 10;
  const RoutingTrace t = make_synthetic_trace(spec);
  PlanRequest rq;
  rq.trace = &t;
  auto wrong = plan("50%", rq);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("the trace has 3 layers"), std::string::npos) << wrong.message();
}

}  // namespace
}  // namespace moe
