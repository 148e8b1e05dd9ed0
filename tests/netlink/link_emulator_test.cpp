// The emulated wireless link of moe-node --emulate-link: delays follow the scenario device's
// modelled rates (checked against the channel formulas), grow with distance and bytes, attempts
// below the outage SNR are retransmitted, and bad specs are refused with a message naming the
// problem.
#include <gtest/gtest.h>

#include <fstream>

#include "core/wdmoe/channel_model.h"
#include "netlink/link_emulator.h"
#include "tests/core/temp_dir_test.h"

namespace moe::net {
namespace {

wdmoe::Scenario scenario_with_far_device() {
  wdmoe::Scenario s = wdmoe::default_scenario();
  s.devices[7].distance_m = 20000;  // far beyond the cell edge: often in outage
  EXPECT_TRUE(wdmoe::validate_and_resolve(s).ok());
  return s;
}

TEST(LinkEmulator, MeanDelayIsBitsOverTheModelledRates) {
  const wdmoe::Scenario s = wdmoe::default_scenario();
  LinkEmulator near(s, 0);
  const auto& d = s.devices[0];
  const double g = wdmoe::mean_power_gain(d.distance_m, s.carrier_ghz);
  const double n0 = wdmoe::noise_psd(s.noise_temperature_k);
  const double down = wdmoe::shannon_rate(d.bandwidth_hz, s.bs_power_w, g, n0);  // eq. 2
  const double up = wdmoe::shannon_rate(d.bandwidth_hz, d.power_w, g, n0);        // eq. 3
  EXPECT_NEAR(near.mean_delay_s(1000, 0), 8000 / down, 1e-12);
  EXPECT_NEAR(near.mean_delay_s(0, 1000), 8000 / up, 1e-12);
  EXPECT_NEAR(near.mean_delay_s(2000, 4000), 2 * near.mean_delay_s(1000, 2000), 1e-12);
}

TEST(LinkEmulator, FarDevicesWaitLongerAndLoseAttempts) {
  const wdmoe::Scenario s = scenario_with_far_device();
  LinkEmulator near(s, 0), far(s, 7);
  double t_near = 0, t_far = 0;
  for (int i = 0; i < 200; ++i) {
    t_near += std::chrono::duration<double>(near.delay(8192, 16384)).count();
    t_far += std::chrono::duration<double>(far.delay(8192, 16384)).count();
  }
  EXPECT_GT(t_far, 5 * t_near);
  EXPECT_EQ(near.stats().requests, 200u);
  EXPECT_EQ(near.stats().lost_attempts, 0u) << "device0 is 20 m from the BS";
  EXPECT_GT(far.stats().lost_attempts, 0u);
  EXPECT_NEAR(far.stats().held_s, t_far, 1e-6);
  // Fading: individual delays vary around the mean-channel one.
  double lo = 1e9, hi = 0;
  for (int i = 0; i < 100; ++i) {
    const double t = std::chrono::duration<double>(near.delay(8192, 0)).count();
    lo = std::min(lo, t);
    hi = std::max(hi, t);
  }
  EXPECT_LT(lo, hi);
}

class LinkEmulatorSpec : public test::TempDirTest {
 protected:
  LinkEmulatorSpec() : TempDirTest("moe_link_spec_", 10) {}
};

TEST_F(LinkEmulatorSpec, NamesOrIndicesAndClearErrors) {
  const std::string file = (dir_ / "s.json").string();
  std::ofstream(file) << wdmoe::scenario_to_json(wdmoe::default_scenario());
  auto by_name = LinkEmulator::from_spec(file + ":device3");
  ASSERT_TRUE(by_name.ok()) << by_name.message();
  EXPECT_EQ((*by_name)->device_name(), "device3");
  auto by_index = LinkEmulator::from_spec(file + ":5");
  ASSERT_TRUE(by_index.ok()) << by_index.message();
  EXPECT_EQ((*by_index)->device_name(), "device5");
  for (const auto& [spec, expect] : std::vector<std::pair<std::string, std::string>>{
           {file, "expected SCENARIO.json:DEVICE"},
           {file + ":", "expected SCENARIO.json:DEVICE"},
           {file + ":device9", "no device 'device9'"},
           {file + ":8", "an index 0-7"},
           {(dir_ / "missing.json").string() + ":0", "missing.json"}}) {
    auto r = LinkEmulator::from_spec(spec);
    ASSERT_FALSE(r.ok()) << spec;
    EXPECT_NE(r.message().find(expect), std::string::npos) << spec << ": " << r.message();
  }
}

}  // namespace
}  // namespace moe::net
