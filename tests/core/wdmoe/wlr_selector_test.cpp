// Algorithm 1 (WDMoE §III) on hand-computed cases, with a fake latency source.
#include "core/wdmoe/wlr_selector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <vector>

namespace moe {
namespace {

// t per expert, fixed (unit tests only).
class FakeSource final : public LatencySource {
 public:
  explicit FakeSource(std::vector<double> t) : t_(std::move(t)) {}
  double expert_latency_s(const TokenTime&, int, int expert) override { return t_.at(expert); }
  const char* name() const override { return "fake"; }
  std::vector<double> t_;
};

struct Outcome {
  ExpertSelection sel;
  SelectionEvent ev;
};

Outcome run(const std::vector<float>& logits, const std::vector<double>& t, int k, float theta) {
  WlrSelector s(std::make_shared<FakeSource>(t));
  Outcome r;
  SelectionInput in;
  in.logits = logits;
  in.k = k;
  in.theta = theta;
  in.layer = 3;
  in.pos = 7;
  in.step = 11;
  EXPECT_TRUE(s.select(in, r.sel, &r.ev));
  return r;
}

TEST(WlrSelector, KappaExactlyAtThetaKeepsBoth) {
  // Equal logits -> w = 0.5, 0.5. t = 0.25, 1 -> WLR = 2, 0.5 -> κ = 0.5 / 2.5 = 0.2.
  Outcome r = run({1.f, 1.f, -5.f}, {0.25, 1.0, 1.0}, 2, 0.2f);
  EXPECT_EQ(r.sel.n, 2);
  EXPECT_FLOAT_EQ(r.ev.kappa, 0.2f);
  EXPECT_EQ(r.ev.n_dropped, 0);
  // Just above: expert 1 (t = 1, lowest WLR) goes; expert 0 keeps all the weight.
  Outcome d = run({1.f, 1.f, -5.f}, {0.25, 1.0, 1.0}, 2, 0.2001f);
  ASSERT_EQ(d.sel.n, 1);
  EXPECT_EQ(d.sel.experts[0], 0);
  EXPECT_EQ(d.sel.weights[0], 1.0f);
  EXPECT_EQ(d.ev.n_dropped, 1);
  EXPECT_EQ(d.ev.dropped[0], 1);
  EXPECT_FLOAT_EQ(d.ev.kappa, 0.5f);  // one expert: min = max
  EXPECT_FLOAT_EQ(d.ev.token_latency_s, 0.25f);
}

TEST(WlrSelector, EqualLatenciesDropOnWeightAlone) {
  // logits ln 3, 0 -> w = 0.75, 0.25; equal t -> κ = 0.25 / 1.0 = 0.25.
  const float l1 = std::log(3.f);
  Outcome keep = run({0.f, l1, -3.f}, {2e-3, 2e-3, 2e-3}, 2, 0.24f);
  EXPECT_EQ(keep.sel.n, 2);
  EXPECT_NEAR(keep.ev.kappa, 0.25f, 1e-6);
  EXPECT_EQ(keep.sel.experts[0], 1);  // ranked by weight
  EXPECT_EQ(keep.sel.experts[1], 0);
  Outcome drop = run({0.f, l1, -3.f}, {2e-3, 2e-3, 2e-3}, 2, 0.26f);
  ASSERT_EQ(drop.sel.n, 1);
  EXPECT_EQ(drop.sel.experts[0], 1);
  EXPECT_EQ(drop.ev.dropped[0], 0);
  EXPECT_FLOAT_EQ(drop.ev.token_latency_s, 2e-3f);
}

TEST(WlrSelector, OneVerySlowDeviceIsDropped) {
  // Expert 2 has the top weight but sits behind a 100 s link: WLR ≈ 0, κ ≈ 0.
  std::vector<double> t(8, 1e-3);
  t[2] = 100;
  Outcome r = run({0.f, 1.f, 2.f, 0.5f, 0.f, 0.f, 0.f, 0.f}, t, 2, 0.1f);
  ASSERT_EQ(r.sel.n, 1);
  EXPECT_EQ(r.sel.experts[0], 1);
  EXPECT_EQ(r.sel.weights[0], 1.0f);
  EXPECT_EQ(r.ev.dropped[0], 2);
  EXPECT_FLOAT_EQ(r.ev.token_latency_s, 1e-3f);
  // θ = 0 keeps it, and the token waits 100 s (eq. 7).
  Outcome z = run({0.f, 1.f, 2.f, 0.5f, 0.f, 0.f, 0.f, 0.f}, t, 2, 0.f);
  EXPECT_EQ(z.sel.n, 2);
  EXPECT_FLOAT_EQ(z.ev.token_latency_s, 100.f);
}

TEST(WlrSelector, KOneNeverDrops) {
  Outcome r = run({0.f, 3.f}, {1e-3, 50.0}, 1, 0.49f);
  ASSERT_EQ(r.sel.n, 1);
  EXPECT_EQ(r.sel.experts[0], 1);
  EXPECT_EQ(r.sel.weights[0], 1.0f);
  EXPECT_EQ(r.ev.n_dropped, 0);
  EXPECT_FLOAT_EQ(r.ev.kappa, 0.5f);
  EXPECT_FLOAT_EQ(r.ev.token_latency_s, 50.f);
}

TEST(WlrSelector, KFourDropsRepeatedly) {
  // Equal logits: w = 0.25 each. t = 1, 2, 4, 8 -> WLR = 0.25, 0.125, 0.0625, 0.03125.
  // κ0 = 0.03125 / 0.28125 = 1/9 ≈ 0.111 < 0.3 -> drop e3 (t = 8)
  // κ1 = 0.0625 / 0.3125 = 0.2 < 0.3          -> drop e2
  // κ2 = 0.125 / 0.375 = 1/3 >= 0.3           -> stop: keep e0, e1 (weights 0.5 each).
  Outcome r = run({1.f, 1.f, 1.f, 1.f, -9.f}, {1, 2, 4, 8, 1}, 4, 0.3f);
  ASSERT_EQ(r.sel.n, 2);
  EXPECT_EQ(r.sel.experts[0], 0);
  EXPECT_EQ(r.sel.experts[1], 1);
  EXPECT_EQ(r.sel.weights[0], 0.5f);
  EXPECT_EQ(r.sel.weights[1], 0.5f);
  ASSERT_EQ(r.ev.n_dropped, 2);
  EXPECT_EQ(r.ev.dropped[0], 3);
  EXPECT_EQ(r.ev.dropped[1], 2);
  EXPECT_FLOAT_EQ(r.ev.kappa, 1.f / 3.f);
  EXPECT_FLOAT_EQ(r.ev.kept_latency_s[0], 1.f);
  EXPECT_FLOAT_EQ(r.ev.kept_latency_s[1], 2.f);
  EXPECT_FLOAT_EQ(r.ev.token_latency_s, 2.f);
  // θ = 0.15: only the first drop (κ1 = 0.2 >= 0.15).
  Outcome s = run({1.f, 1.f, 1.f, 1.f, -9.f}, {1, 2, 4, 8, 1}, 4, 0.15f);
  EXPECT_EQ(s.sel.n, 3);
  EXPECT_FLOAT_EQ(s.ev.kappa, 0.2f);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(s.sel.weights[j], 1.0 / 3, 1e-7);
  // θ = 0.5 (max κ of a set is 0.5): drops down to a single expert, the fastest one.
  Outcome a = run({1.f, 1.f, 1.f, 1.f, -9.f}, {1, 2, 4, 8, 1}, 4, 0.5f);
  ASSERT_EQ(a.sel.n, 1);
  EXPECT_EQ(a.sel.experts[0], 0);
  EXPECT_EQ(a.ev.n_dropped, 3);
}

TEST(WlrSelector, TiesDropTheLowerRankedExpert) {
  // All WLRs equal -> κ = 0.5: nothing is dropped even at θ = 0.5 (κ < θ is false).
  Outcome eq = run({1.f, 1.f, 1.f}, {1, 1, 1}, 3, 0.5f);
  EXPECT_EQ(eq.sel.n, 3);
  // Two lowest WLRs tie (experts 1 and 2, t = 2): the lower-ranked (higher index) goes first.
  Outcome t = run({1.f, 1.f, 1.f}, {1, 2, 2}, 3, 0.34f);
  // κ0 = (1/6) / (1/3 + 1/6) = 1/3 < 0.34 -> drop e2; κ1 = 1/3 again -> drop e1.
  ASSERT_EQ(t.ev.n_dropped, 2);
  EXPECT_EQ(t.ev.dropped[0], 2);
  EXPECT_EQ(t.ev.dropped[1], 1);
  EXPECT_EQ(t.sel.experts[0], 0);
  // Tied logits for the k-th place: lower index wins the top-k slot (TopKSelector semantics).
  Outcome k = run({0.f, 2.f, 2.f, 2.f}, {1, 1, 1, 1}, 2, 0.1f);
  EXPECT_EQ(k.sel.experts[0], 1);
  EXPECT_EQ(k.sel.experts[1], 2);
}

TEST(WlrSelector, ThetaZeroIsBitIdenticalToTopK) {
  std::mt19937 rng(1234);
  std::normal_distribution<float> nd(0.f, 2.f);
  std::uniform_real_distribution<double> ud(1e-4, 1.0);
  for (int trial = 0; trial < 500; ++trial) {
    const int n = 2 + trial % 63;
    const int k = 1 + trial % 4;
    std::vector<float> logits(n);
    std::vector<double> t(n);
    for (int e = 0; e < n; ++e) {
      logits[e] = nd(rng);
      t[e] = ud(rng);
    }
    if (trial % 7 == 0) logits[n - 1] = logits[0];  // ties
    SelectionInput in;
    in.logits = logits;
    in.k = k;
    in.theta = 0;
    ExpertSelection a, b;
    TopKSelector topk;
    topk.select(in, a, nullptr);
    WlrSelector wlr(std::make_shared<FakeSource>(t));
    SelectionEvent ev;
    wlr.select(in, b, trial % 2 ? &ev : nullptr);
    ASSERT_EQ(a.n, b.n);
    for (int j = 0; j < a.n; ++j) {
      EXPECT_EQ(a.experts[j], b.experts[j]);
      EXPECT_EQ(std::memcmp(&a.weights[j], &b.weights[j], sizeof(float)), 0) << "trial " << trial;
    }
  }
}

TEST(WlrSelector, UnavailableExpertIsDroppedFirst) {
  const double inf = std::numeric_limits<double>::infinity();
  Outcome r = run({2.f, 1.f, 0.f}, {inf, 1e-3, 1e-3}, 2, 0.01f);
  ASSERT_EQ(r.sel.n, 1);
  EXPECT_EQ(r.sel.experts[0], 1);
  EXPECT_EQ(r.ev.dropped[0], 0);
}

TEST(WlrSelector, RenormalisesOverKeptLogits) {
  // k = 3 of logits 2, 1, 0 (w ∝ e^2, e^1, e^0); expert 0 is slow and is dropped; kept
  // weights are softmax(1, 0) = e/(e+1), 1/(e+1).
  Outcome r = run({2.f, 1.f, 0.f}, {10.0, 1e-3, 1e-3}, 3, 0.2f);
  ASSERT_EQ(r.sel.n, 2);
  EXPECT_EQ(r.sel.experts[0], 1);
  EXPECT_EQ(r.sel.experts[1], 2);
  const double e = std::exp(1.0);
  EXPECT_NEAR(r.sel.weights[0], e / (e + 1), 1e-6);
  EXPECT_NEAR(r.sel.weights[1], 1 / (e + 1), 1e-6);
  EXPECT_EQ(r.ev.step, 11u);
  EXPECT_EQ(r.ev.pos, 7);
  EXPECT_EQ(r.ev.layer, 3);
  EXPECT_FLOAT_EQ(r.ev.theta, 0.2f);
}

}  // namespace
}  // namespace moe
