// RecordingSelector: per-token latency summed over layers (eqs. 7-8) and experts counted.
#include "core/wdmoe/selection_recorder.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/wdmoe/wlr_selector.h"

namespace moe {
namespace {

class FixedSource final : public LatencySource {
 public:
  double expert_latency_s(const TokenTime& at, int layer, int expert) override {
    return 1e-3 * (expert + 1) + 1e-4 * layer + 1e-5 * at.pos;
  }
  const char* name() const override { return "fixed"; }
};

TEST(RecordingSelector, SumsLayerLatenciesPerToken) {
  WlrSelector wlr(std::make_shared<FixedSource>());
  RecordingSelector rec(wlr, 8);
  const std::vector<float> logits{3.f, 2.f, 1.f, 0.f};
  for (int pos = 0; pos < 2; ++pos)
    for (int layer = 0; layer < 3; ++layer) {
      SelectionInput in;
      in.logits = logits;
      in.k = 2;
      in.layer = layer;
      in.pos = pos;
      ExpertSelection out;
      EXPECT_FALSE(rec.select(in, out, nullptr));  // nobody asked for the event
      EXPECT_EQ(out.n, 2);
    }
  // Top-2 = experts 0, 1; layer latency = t of expert 1 = 2e-3 + 1e-4 layer + 1e-5 pos.
  EXPECT_NEAR(rec.token_latency_s(0), 3 * 2e-3 + 1e-4 * 3, 1e-9);  // float events
  EXPECT_NEAR(rec.token_latency_s(1), 3 * 2e-3 + 1e-4 * 3 + 3e-5, 1e-9);
  EXPECT_EQ(rec.token_latency_s(2), 0);
  EXPECT_EQ(rec.token_latency_s(99), 0);
  EXPECT_EQ(rec.selections(), 6u);
  EXPECT_EQ(rec.mean_experts(), 2.0);
  // θ = 0.45: κ = (w1/2) / (w0 + w1/2) = 1 / (2e + 1) ≈ 0.155 < 0.45 -> expert 1 dropped.
  SelectionInput in;
  in.logits = logits;
  in.k = 2;
  in.theta = 0.45f;
  in.pos = 5;
  ExpertSelection out;
  SelectionEvent ev;
  EXPECT_TRUE(rec.select(in, out, &ev));
  EXPECT_EQ(ev.n_dropped, 1);
  EXPECT_EQ(rec.experts_dropped(), 1u);
  EXPECT_NEAR(rec.token_latency_s(5), 1e-3 + 5e-5, 1e-9);
  EXPECT_NEAR(rec.mean_experts(), 13.0 / 7, 1e-12);
  rec.clear();
  EXPECT_EQ(rec.selections(), 0u);
  EXPECT_EQ(rec.token_latency_s(0), 0);
}

}  // namespace
}  // namespace moe
