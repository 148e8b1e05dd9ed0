// Latency sources: the simulated channel (slots, determinism, placement) and the EWMA of
// measured RPCs, fed with synthetic samples.
#include "core/wdmoe/latency_source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace moe {
namespace {

TEST(SimulatedLatencySource, OneSlotPerTokenSameForEveryLayer) {
  SimulatedLatencySource src(wdmoe::default_scenario());
  const TokenTime t0{1, 0}, t1{1, 1};
  const double a = src.expert_latency_s(t0, 0, 5);
  EXPECT_NE(src.expert_latency_s(t1, 0, 5), a);               // new token, new fading
  EXPECT_EQ(src.expert_latency_s(t0, 17, 5), a);              // same token, other layer
  EXPECT_EQ(src.expert_latency_s(TokenTime{9, 0}, 0, 5), a);  // slot follows the position
  // Matches eq. 6 on the snapshot's links.
  std::vector<wdmoe::LinkState> links;
  std::vector<double> t;
  src.snapshot(t0, links, t);
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[5], a);
  EXPECT_GT(links[5].snr_up, 0);
  // A new epoch redraws the fading for the same position.
  src.advance_slot();
  EXPECT_NE(src.expert_latency_s(t0, 0, 5), a);
}

TEST(SimulatedLatencySource, TokensPerSlotAndReproducibility) {
  wdmoe::Scenario s = wdmoe::default_scenario();
  s.tokens_per_slot = 4;
  SimulatedLatencySource a(s), b(s);
  EXPECT_EQ(a.expert_latency_s({0, 1}, 0, 2), a.expert_latency_s({0, 3}, 0, 2));
  EXPECT_NE(a.expert_latency_s({0, 3}, 0, 2), a.expert_latency_s({0, 4}, 0, 2));
  for (int pos = 0; pos < 20; ++pos)  // same seed -> same channel, whatever the query order
    EXPECT_EQ(a.expert_latency_s({0, 19 - pos}, 0, 7), b.expert_latency_s({0, 19 - pos}, 1, 7));
  s.seed = 2;
  SimulatedLatencySource c(s);
  EXPECT_NE(c.expert_latency_s({0, 0}, 0, 2), b.expert_latency_s({0, 0}, 0, 2));
}

TEST(SimulatedLatencySource, ReplicasTakeTheFastestAndBandwidthMatters) {
  wdmoe::Scenario s = wdmoe::default_scenario();
  s.placement = {{7}, {0, 7}};
  SimulatedLatencySource src(s);
  std::vector<wdmoe::LinkState> links;
  std::vector<double> t;
  src.snapshot({0, 3}, links, t);
  EXPECT_EQ(src.expert_latency_s({0, 3}, 0, 0), t[7]);
  EXPECT_EQ(src.expert_latency_s({0, 3}, 0, 1), std::min(t[0], t[7]));
  EXPECT_EQ(src.expert_latency_s({0, 3}, 0, 9), t[1]);  // beyond the placement: 9 mod 8
  const double before = src.expert_latency_s({0, 3}, 0, 0);
  std::vector<double> bw(8, 5e6);
  bw[7] = 65e6;
  src.set_bandwidth(bw);
  EXPECT_LT(src.expert_latency_s({0, 3}, 0, 0), before);  // more bandwidth, faster link
}

TEST(MeasuredLatencySource, EwmaOfRttPlusCompute) {
  MeasuredLatencySource src(3, Placement(3), {0.5, 2e-3});
  EXPECT_EQ(src.expert_latency_s({}, 0, 1), 2e-3);  // prior before any sample
  ASSERT_TRUE(src.record(1, 0.010, 0.002));         // first sample sets the estimate
  EXPECT_NEAR(src.expert_latency_s({}, 0, 1), 0.012, 1e-15);
  ASSERT_TRUE(src.record(1, 0.020, 0.004));  // x += 0.5 (s - x): rtt 0.015, compute 0.003
  MeasuredLatencySource::Estimate e = src.estimate(1);
  EXPECT_NEAR(e.rtt_s, 0.015, 1e-15);
  EXPECT_NEAR(e.compute_s, 0.003, 1e-15);
  EXPECT_EQ(e.samples, 2u);
  EXPECT_NEAR(src.expert_latency_s({}, 4, 4), 0.018, 1e-15);  // expert 4 -> device 1
  // Bad samples are refused and change nothing.
  EXPECT_FALSE(src.record(1, -1, 0));
  EXPECT_FALSE(src.record(1, std::nan(""), 0));
  EXPECT_FALSE(src.record(3, 0.1, 0));
  EXPECT_EQ(src.estimate(1).samples, 2u);
  // Timeout: +inf until the device answers again.
  src.mark_unavailable(1);
  EXPECT_TRUE(std::isinf(src.expert_latency_s({}, 0, 1)));
  ASSERT_TRUE(src.record(1, 0.015, 0.003));
  EXPECT_NEAR(src.expert_latency_s({}, 0, 1), 0.018, 1e-15);
}

TEST(MeasuredLatencySource, ConvergesToTheMeanOfNoisySamples) {
  MeasuredLatencySource src(2, Placement(2, {{0, 1}}), {0.05, 1e-3});
  uint64_t x = 42;
  for (int i = 0; i < 2000; ++i) {  // rtt uniform in [4, 6] ms, compute 1 ms
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const double u = static_cast<double>(x >> 11) * 0x1.0p-53;
    src.record(0, 0.004 + 0.002 * u, 0.001);
  }
  EXPECT_NEAR(src.estimate(0).latency_s, 0.006, 3e-4);
  // Expert 0 is replicated on devices 0 and 1; device 1 is unmeasured (prior 1 ms) -> faster.
  EXPECT_EQ(src.expert_latency_s({}, 0, 0), 1e-3);
  src.mark_unavailable(1);
  EXPECT_NEAR(src.expert_latency_s({}, 0, 0), 0.006, 3e-4);
}

}  // namespace
}  // namespace moe
