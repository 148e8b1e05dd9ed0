// The host's placement of experts over its devices (netlink/expert_placement.h): spread in
// proportion to speed over machines, whole layers per device within one machine, memory
// limits respected, the rest on the host.
#include "netlink/expert_placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace moe::net {
namespace {

constexpr int kLayers = 8, kExperts = 8;

std::vector<uint8_t> serving(int lo, int hi) {  // experts [lo, hi) of every layer
  std::vector<uint8_t> m(kLayers * kExperts, 0);
  for (int l = 0; l < kLayers; ++l) {
    for (int e = lo; e < hi; ++e) m[static_cast<size_t>(l * kExperts + e)] = 1;
  }
  return m;
}

const std::vector<uint8_t> kAll = serving(0, kExperts);

// `served` must outlive the placement (PlacementDevice holds a view of it).
PlacementDevice dev(const std::string& machine, double speed = 1,
                    const std::vector<uint8_t>& served = kAll, uint64_t cap = UINT64_MAX) {
  return {machine, speed, cap, served};
}

// How many experts of layer l device i got.
int in_layer(const std::vector<int>& a, int l, int i) {
  return static_cast<int>(std::count(a.begin() + l * kExperts, a.begin() + (l + 1) * kExperts, i));
}

TEST(ExpertPlacement, SeparateMachinesShareEveryLayerBySpeed) {
  const std::vector<PlacementDevice> d = {dev("a"), dev("b"), dev("c"), dev("")};
  const auto a = place_experts(kLayers, kExperts, d);
  for (int l = 0; l < kLayers; ++l) {
    for (int i = 0; i < 4; ++i) EXPECT_EQ(in_layer(a, l, i), 2) << "layer " << l << " device " << i;
  }
  // 3x faster: 6 of every 8 experts.
  const std::vector<PlacementDevice> d2 = {dev("fast", 3), dev("slow", 1)};
  const auto b = place_experts(kLayers, kExperts, d2);
  for (int l = 0; l < kLayers; ++l) {
    EXPECT_EQ(in_layer(b, l, 0), 6) << l;
    EXPECT_EQ(in_layer(b, l, 1), 2) << l;
  }
}

TEST(ExpertPlacement, DevicesOfOneMachineTakeBlocksOfWholeLayers) {
  const std::vector<PlacementDevice> d = {dev("box"), dev("box"), dev("box"), dev("box")};
  const auto a = place_experts(kLayers, kExperts, d);
  std::vector<int> owner;
  for (int l = 0; l < kLayers; ++l) {
    const std::set<int> who(a.begin() + l * kExperts, a.begin() + (l + 1) * kExperts);
    ASSERT_EQ(who.size(), 1u) << "layer " << l << " is spread over devices of one machine";
    owner.push_back(*who.begin());
  }
  // Consecutive layers on one device: the next layer finds its threads awake.
  EXPECT_EQ(owner, (std::vector<int>{0, 0, 1, 1, 2, 2, 3, 3}));
}

TEST(ExpertPlacement, TwoMachinesSplitALayerEachOnOneOfItsDevices) {
  const std::vector<PlacementDevice> d = {dev("m1"), dev("m1"), dev("m2"), dev("m2")};
  const auto a = place_experts(kLayers, kExperts, d);
  for (int l = 0; l < kLayers; ++l) {
    const int m1 = in_layer(a, l, 0) + in_layer(a, l, 1), m2 = in_layer(a, l, 2) + in_layer(a, l, 3);
    EXPECT_EQ(m1, 4) << l;
    EXPECT_EQ(m2, 4) << l;
    EXPECT_TRUE(in_layer(a, l, 0) == 0 || in_layer(a, l, 1) == 0) << l;
    EXPECT_TRUE(in_layer(a, l, 2) == 0 || in_layer(a, l, 3) == 0) << l;
  }
}

TEST(ExpertPlacement, ExpertsALayerDeviceLacksGoToAnotherOfItsMachine) {
  // One machine, each device holding a quarter of the experts: nothing else can serve them.
  const auto q0 = serving(0, 2), q1 = serving(2, 4), q2 = serving(4, 6), q3 = serving(6, 8);
  const std::vector<PlacementDevice> d = {dev("box", 1, q0), dev("box", 1, q1), dev("box", 1, q2),
                                          dev("box", 1, q3)};
  const auto a = place_experts(kLayers, kExperts, d);
  for (int l = 0; l < kLayers; ++l) {
    for (int e = 0; e < kExperts; ++e) EXPECT_EQ(a[static_cast<size_t>(l * kExperts + e)], e / 2);
  }
}

TEST(ExpertPlacement, MemoryLimitsAndUnservedExpertsLeaveTheRestToTheHost) {
  // Room for 5 experts on one, 3 on the other; experts 6 and 7 served by nobody.
  const auto six = serving(0, 6);
  const std::vector<PlacementDevice> d = {dev("a", 10, six, 5), dev("b", 1, six, 3)};
  const auto a = place_experts(kLayers, kExperts, d);
  EXPECT_EQ(std::count(a.begin(), a.end(), 0), 5);
  EXPECT_EQ(std::count(a.begin(), a.end(), 1), 3);
  for (int l = 0; l < kLayers; ++l) {
    EXPECT_EQ(a[static_cast<size_t>(l * kExperts + 6)], -1);
    EXPECT_EQ(a[static_cast<size_t>(l * kExperts + 7)], -1);
  }
  // A device that is down (capacity 0) gets nothing; on one machine, its partner takes all.
  const std::vector<PlacementDevice> e = {dev("box", 1, kAll, 0), dev("box")};
  const auto b = place_experts(kLayers, kExperts, e);
  EXPECT_EQ(std::count(b.begin(), b.end(), 1), kLayers * kExperts);
  // A full layer device hands the rest of its layer to its machine's other device.
  const std::vector<PlacementDevice> f = {dev("box", 1, kAll, 3), dev("box")};
  const auto c = place_experts(kLayers, kExperts, f);
  EXPECT_EQ(std::count(c.begin(), c.end(), 0), 3);
  EXPECT_EQ(std::count(c.begin(), c.end(), -1), 0);
}

TEST(ExpertPlacement, ThisMachinesKeyIsStableAndSaysNothingOfTheBootId) {
  const std::string k = this_machine_key();
  ASSERT_EQ(k.size(), 16u);
  EXPECT_EQ(k.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(this_machine_key(), k);
}

}  // namespace
}  // namespace moe::net
