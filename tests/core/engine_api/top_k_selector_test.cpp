#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/engine_api/expert_selection.h"

namespace moe {
namespace {

TEST(TopK, PicksLargestInDescendingOrderWithRenormalisedSoftmax) {
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.5f, 0.3f, 1.9f, -3.f, 0.f};
  ExpertSelection sel;
  top_k_softmax(logits, 2, sel);
  ASSERT_EQ(sel.n, 2);
  EXPECT_EQ(sel.experts[0], 1);
  EXPECT_EQ(sel.experts[1], 5);
  // Mixtral: softmax over all experts, renormalised over the chosen == softmax over the two.
  const double e1 = std::exp(2.0), e5 = std::exp(1.9);
  EXPECT_NEAR(sel.weights[0], e1 / (e1 + e5), 1e-6);
  EXPECT_NEAR(sel.weights[1], e5 / (e1 + e5), 1e-6);
}

TEST(TopK, TiesGoToTheLowerIndex) {
  const std::vector<float> logits = {1.f, 3.f, 3.f, 3.f};
  ExpertSelection sel;
  top_k_softmax(logits, 2, sel);
  ASSERT_EQ(sel.n, 2);
  EXPECT_EQ(sel.experts[0], 1);
  EXPECT_EQ(sel.experts[1], 2);
  EXPECT_FLOAT_EQ(sel.weights[0], 0.5f);
}

TEST(TopK, KIsClampedToTheExpertCount) {
  const std::vector<float> logits = {0.f, 1.f, 2.f};
  ExpertSelection sel;
  top_k_softmax(logits, 7, sel);
  ASSERT_EQ(sel.n, 3);
  EXPECT_EQ(sel.experts[0], 2);
  EXPECT_EQ(sel.experts[2], 0);
  top_k_softmax(logits, 0, sel);
  ASSERT_EQ(sel.n, 1);
  EXPECT_FLOAT_EQ(sel.weights[0], 1.f);
}

TEST(TopK, MatchesFullSortOnRandomLogits) {
  uint32_t s = 12345;
  auto rnd = [&] { s = s * 1664525u + 1013904223u; return (s >> 8) / float(1 << 24) - 0.5f; };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<float> logits(8 + trial % 57);
    for (float& v : logits) v = rnd() * 8;
    const int k = 1 + trial % 8;
    ExpertSelection sel;
    TopKSelector selector;
    SelectionInput in;
    in.logits = logits;
    in.k = k;
    selector.select(in, sel, nullptr);
    std::vector<int> idx(logits.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int>(i);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return logits[a] > logits[b]; });
    ASSERT_EQ(sel.n, k);
    float sum = 0;
    for (int j = 0; j < k; ++j) {
      EXPECT_EQ(sel.experts[j], idx[j]);
      sum += sel.weights[j];
    }
    EXPECT_NEAR(sum, 1.f, 1e-5);
  }
}

}  // namespace
}  // namespace moe
