// Tier-aware t_q (core/wdmoe/tier_latency_source.h): the offloading paper's l_dc / l_cg added
// to compute where an expert is not resident, and Algorithm 1 reading it: at θ > 0 a
// low-weight expert that needs a disk read is left out, a resident one with the same weight is
// kept, and θ = 0 is exactly top-k.
#include "core/wdmoe/tier_latency_source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <memory>

#include "core/wdmoe/wlr_selector.h"

namespace moe {
namespace {

TierLatencyModel model() {
  TierLatencyModel m;
  m.expert_bytes = 100e6;  // 100 MB
  m.s_dc = 2e9;            // 2 GB/s NVMe: l_dc = 50 ms
  m.s_cg = 20e9;           // PCIe: l_cg = 5 ms
  m.compute_s = 1e-3;
  return m;
}

TEST(TierLatency, ThePapersTermsPerTier) {
  TierLatencyModel cpu = model();
  EXPECT_DOUBLE_EQ(cpu.latency_s(Tier::kRam), 1e-3);
  EXPECT_DOUBLE_EQ(cpu.latency_s(Tier::kDisk), 1e-3 + 0.05);  // + l_dc (eq. 6)
  TierLatencyModel gpu = model();
  gpu.compute_tier = Tier::kVram;
  EXPECT_DOUBLE_EQ(gpu.latency_s(Tier::kVram), 1e-3);
  EXPECT_DOUBLE_EQ(gpu.latency_s(Tier::kRam), 1e-3 + 0.005);          // + l_cg (eq. 5)
  EXPECT_DOUBLE_EQ(gpu.latency_s(Tier::kDisk), 1e-3 + 0.005 + 0.05);  // l_dg (eq. 7)
  TierLatencyModel unknown = model();
  unknown.s_dc = 0;  // not calibrated: a disk read is never cheaper than anything
  EXPECT_TRUE(std::isinf(unknown.latency_s(Tier::kDisk)));
}

struct Residency {
  std::map<std::pair<int, int>, Tier> tier;
  Tier of(int l, int e) const {
    auto it = tier.find({l, e});
    return it == tier.end() ? Tier::kRam : it->second;
  }
};

ExpertSelection select(const std::shared_ptr<Residency>& r, std::vector<float> logits,
                       float theta) {
  WlrSelector s(std::make_shared<TierLatencySource>(
      model(), [r](int l, int e) { return r->of(l, e); }));
  SelectionInput in;
  in.logits = logits;
  in.k = 2;
  in.theta = theta;
  in.layer = 5;
  ExpertSelection out;
  s.select(in, out, nullptr);
  return out;
}

TEST(TierLatency, ThetaSkipsALowWeightExpertOnDiskOnly) {
  auto r = std::make_shared<Residency>();
  // Weights ~0.73 / 0.27 for experts 2 and 6; all resident (equal t): κ = 0.27 / 1.0 > 0.2.
  const std::vector<float> logits = {-3, -3, 1.0f, -3, -3, -3, 0.0f, -3};
  ExpertSelection all = select(r, logits, 0.2f);
  ASSERT_EQ(all.n, 2);
  // Expert 6 on disk: t 51 ms against 1 ms, κ = 5.3 / (5.3 + 730) < 0.2: dropped.
  r->tier[{5, 6}] = Tier::kDisk;
  ExpertSelection skip = select(r, logits, 0.2f);
  ASSERT_EQ(skip.n, 1);
  EXPECT_EQ(skip.experts[0], 2);
  EXPECT_EQ(skip.weights[0], 1.0f);
  // Another layer's residency does not matter.
  r->tier.clear();
  r->tier[{4, 6}] = Tier::kDisk;
  EXPECT_EQ(select(r, logits, 0.2f).n, 2);
  // θ = 0: exactly top-k whatever lives where.
  r->tier[{5, 6}] = Tier::kDisk;
  r->tier[{5, 2}] = Tier::kDisk;
  ExpertSelection exact = select(r, logits, 0.0f), topk;
  top_k_softmax(logits, 2, topk);
  ASSERT_EQ(exact.n, topk.n);
  for (int i = 0; i < topk.n; ++i) {
    EXPECT_EQ(exact.experts[i], topk.experts[i]);
    EXPECT_EQ(exact.weights[i], topk.weights[i]);
  }
}

}  // namespace
}  // namespace moe
