// RoutingStats: entropy and distinct experts of the routing a benchmark reports.
#include "core/engine_api/routing_stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace moe {
namespace {

RoutingEvent event(int layer, std::initializer_list<int16_t> chosen) {
  RoutingEvent e;
  e.layer = static_cast<int16_t>(layer);
  e.n_chosen = static_cast<int16_t>(chosen.size());
  int i = 0;
  for (int16_t c : chosen) e.chosen[static_cast<size_t>(i++)] = c;
  return e;
}

TEST(RoutingStats, EntropyOfUniformCollapsedAndEmptyLayers) {
  RoutingStats s;
  for (int t = 0; t < 100; ++t) {
    s.add(event(0, {static_cast<int16_t>((2 * t) % 8), static_cast<int16_t>((2 * t + 1) % 8)}));
    s.add(event(2, {3, 5}));  // the same pair every token
  }
  EXPECT_EQ(s.n_layer(), 3);
  EXPECT_NEAR(s.entropy_bits(0), 3.0, 1e-12);  // all 8 equally often
  EXPECT_NEAR(s.entropy_bits(2), 1.0, 1e-12);  // two experts, half each
  EXPECT_EQ(s.entropy_bits(1), 0.0);           // saw nothing
  EXPECT_EQ(s.distinct_experts(0), 8);
  EXPECT_EQ(s.distinct_experts(2), 2);
  EXPECT_EQ(s.selections(0), 200u);
  // Means over the layers that saw selections only.
  EXPECT_NEAR(s.mean_entropy_bits(), 2.0, 1e-12);
  EXPECT_NEAR(s.mean_distinct_experts(), 5.0, 1e-12);
}

TEST(RoutingStats, SkewedUsage) {
  RoutingStats s;
  const int16_t a[] = {0};
  for (int i = 0; i < 3; ++i) s.add(0, a, 1);
  const int16_t b[] = {1};
  s.add(0, b, 1);
  // p = 3/4, 1/4
  EXPECT_NEAR(s.entropy_bits(0), -(0.75 * std::log2(0.75) + 0.25 * std::log2(0.25)), 1e-12);
  const int16_t bad[] = {-1};
  s.add(0, bad, 1);   // ignored
  s.add(-1, a, 1);    // ignored
  EXPECT_EQ(s.selections(0), 4u);
}

}  // namespace
}  // namespace moe
