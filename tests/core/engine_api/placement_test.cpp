// Placement: the paper's default rule, explicit replicas, per-layer overrides and tiers.
#include "core/engine_api/placement.h"

#include <gtest/gtest.h>

#include <vector>

namespace moe {
namespace {

std::vector<int> v(std::span<const int> s) {
  return {s.begin(), s.end()};
}

TEST(Placement, PaperRuleIsExpertModDevices) {
  const Placement p(8);
  EXPECT_EQ(v(p.devices(0, 3)), std::vector<int>{3});
  EXPECT_EQ(v(p.devices(5, 11)), std::vector<int>{3});
  EXPECT_TRUE(p.devices(0, -1).empty());
  const Placement none(0);
  EXPECT_TRUE(none.devices(0, 1).empty());  // no devices: nobody serves
}

TEST(Placement, ExplicitListsReplicasAndLayerOverrides) {
  Placement p(4, {{1, 2}, {}});
  EXPECT_EQ(v(p.devices(0, 0)), (std::vector<int>{1, 2}));
  EXPECT_TRUE(p.devices(0, 1).empty());            // explicitly on no device
  EXPECT_EQ(v(p.devices(7, 2)), std::vector<int>{2});  // past the list: the paper's rule
  p.set_layer_devices(3, {{0}, {0}, {0}});
  EXPECT_EQ(v(p.devices(3, 1)), std::vector<int>{0});
  EXPECT_EQ(v(p.devices(2, 0)), (std::vector<int>{1, 2}));  // other layers unchanged
  EXPECT_EQ(p.experts_on(0, 3, 4), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(p.experts_on(2, 0, 4), (std::vector<int>{0, 2}));
}

TEST(Placement, TiersDefaultToRam) {
  Placement p;
  EXPECT_EQ(p.tier(0, 0), Tier::kRam);
  p.set_tier(2, 5, Tier::kDisk);
  EXPECT_EQ(p.tier(2, 5), Tier::kDisk);
  EXPECT_EQ(p.tier(2, 4), Tier::kRam);
  EXPECT_EQ(p.tier(9, 5), Tier::kRam);
  EXPECT_STREQ(tier_name(Tier::kVram), "VRAM");
}

}  // namespace
}  // namespace moe
