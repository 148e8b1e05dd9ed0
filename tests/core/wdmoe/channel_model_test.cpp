// Channel and latency formulas (WDMoE eqs. 2-8) against hand calculations (values computed
// independently with Python's math module; see comments).
#include "core/wdmoe/channel_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/wdmoe/latency_model.h"

namespace moe::wdmoe {
namespace {

TEST(ChannelModel, PathLossAndNoise) {
  // 32.4 + 20 log10(3.5) + 20 log10(100) = 32.4 + 10.88136 + 40
  EXPECT_NEAR(path_loss_db(100, 3.5), 83.28136088700552, 1e-9);
  EXPECT_NEAR(path_loss_db(1, 1), 32.4, 1e-12);
  EXPECT_NEAR(mean_power_gain(100, 3.5), 4.697468876221686e-09, 1e-20);
  EXPECT_NEAR(noise_psd(290), 4.0038821e-21, 1e-30);  // k T
}

TEST(ChannelModel, RatesAndSnrAtMeanGain) {
  // d = 100 m, B = 12.5 MHz: downlink 10 W -> SNR 938582.857 (59.72 dB), R = 248.0016 Mbit/s;
  // uplink 0.2 W -> SNR 18771.657 (42.74 dB), R = 177.4543 Mbit/s.
  Scenario s = default_scenario();
  s.devices.resize(1);
  s.devices[0].distance_m = 100;
  s.devices[0].bandwidth_hz = 12.5e6;
  ChannelModel ch(s);
  std::vector<LinkState> links;
  ch.mean_links(links);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_NEAR(links[0].snr_down / 938582.8571169338, 1, 1e-9);
  EXPECT_NEAR(links[0].snr_up / 18771.65714233868, 1, 1e-9);
  EXPECT_NEAR(links[0].rate_down / 248001576.52285933, 1, 1e-9);
  EXPECT_NEAR(links[0].rate_up / 177454315.59841123, 1, 1e-9);
  // eq. 6 with m = 4096, m_h = 14336, η = 4, ε = 2 bytes, C = 1e13 FLOP/s:
  // L_comp = 352393216 FLOPs, 8 L_comm = 65536 bits -> t = 0.6688076600 ms.
  LatencyModel lm(s);
  EXPECT_EQ(lm.flops_per_token(), 352393216.0);
  EXPECT_EQ(lm.bytes_per_token(), 8192.0);
  EXPECT_NEAR(lm.device_latency(0, links[0]) / 0.0006688076600303667, 1, 1e-9);
}

TEST(ChannelModel, FadingIsSeededExponentialPerSlot) {
  // Same (seed, slot, device, dir) -> same draw; different slots differ; sample mean ≈ 1.
  EXPECT_EQ(fading_draw(7, 3, 1, 0), fading_draw(7, 3, 1, 0));
  EXPECT_NE(fading_draw(7, 3, 1, 0), fading_draw(7, 4, 1, 0));
  EXPECT_NE(fading_draw(7, 3, 1, 0), fading_draw(7, 3, 1, 1));
  EXPECT_NE(fading_draw(7, 3, 1, 0), fading_draw(8, 3, 1, 0));
  double sum = 0, sum2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double x = fading_draw(1, static_cast<uint64_t>(i), 0, 0);
    ASSERT_GT(x, 0);
    sum += x;
    sum2 += x * x;
  }
  EXPECT_NEAR(sum / n, 1.0, 0.01);   // E[X] = 1
  EXPECT_NEAR(sum2 / n, 2.0, 0.05);  // E[X^2] = 2 for Exp(1)
}

TEST(ChannelModel, FartherDeviceIsSlowerOnAverage) {
  Scenario s = default_scenario();
  ChannelModel ch(s);
  LatencyModel lm(s);
  std::vector<LinkState> links;
  std::vector<double> t;
  ch.mean_links(links);
  lm.device_latencies(links, t);
  for (size_t q = 1; q < t.size(); ++q) EXPECT_GT(t[q], t[q - 1]) << q;  // distances ascend
  EXPECT_NEAR(ch.bandwidth()[3], 12.5e6, 1e-6);                          // 100 MHz / 8
}

TEST(LatencyModel, Equations4To8) {
  ModelDims m{10, 20, 3, 2};
  EXPECT_EQ(expert_flops(m), 4 * 10 * 20 + 2 * 20 * 10 + 3 * 20 + 20);  // eq. 4
  EXPECT_EQ(comm_bytes(m), 20);                                         // eq. 5
  // eq. 6: 160 bits / 1e3 + 1000 / 1e4 + 160 bits / 2e3 = 0.16 + 0.1 + 0.08
  EXPECT_NEAR(device_latency(20, 1e3, 2e3, 1000, 1e4), 0.34, 1e-12);
  EXPECT_TRUE(std::isinf(device_latency(20, 0, 2e3, 1000, 1e4)));
  const std::vector<double> t{0.3, 0.7, 0.5};
  EXPECT_EQ(token_layer_latency(t), 0.7);      // eq. 7
  EXPECT_NEAR(prompt_latency(t), 1.5, 1e-12);  // eq. 8
}

}  // namespace
}  // namespace moe::wdmoe
