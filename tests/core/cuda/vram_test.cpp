// The VRAM budget split (vram_plan.h) and the VRAM expert cache bookkeeping
// (vram_expert_cache.h): pure C++, tested on every machine.
#include <gtest/gtest.h>

#include <set>

#include "core/cuda/vram_expert_cache.h"
#include "core/cuda/vram_plan.h"

namespace moe::cuda {
namespace {

VramNeeds needs() {
  VramNeeds n;
  n.slot_bytes = 100;
  n.scratch_bytes = 50;
  n.n_layer = 4;
  n.n_expert = 8;
  return n;
}

TEST(VramPlan, DefaultHoldsEveryExpertWhenFreeMemoryAllows) {
  auto p = plan_vram(needs(), std::nullopt, 1 << 20);
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->expert_slots, 32);
  EXPECT_EQ(p->budget, 32u * 100 + 50);
  EXPECT_DOUBLE_EQ(p->expert_share(4, 8), 1.0);
}

TEST(VramPlan, DefaultIsCappedAtNinetyPercentOfFree) {
  auto p = plan_vram(needs(), std::nullopt, 2000);
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->budget, 1800u);
  EXPECT_EQ(p->expert_slots, 17);  // (1800 - 50) / 100
}

TEST(VramPlan, ShareOfExpertsComesOnTopOfScratch) {
  auto p = plan_vram(needs(), RamBudget{0, 25}, 1 << 20);
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->expert_slots, 8);
  EXPECT_EQ(p->budget, 800u + 50);
  EXPECT_NE(p->describe(4, 8).find("8 slots"), std::string::npos) << p->describe(4, 8);
}

TEST(VramPlan, TooSmallOrTooLargeBudgetsAreClearErrors) {
  auto small = plan_vram(needs(), RamBudget{399, 0}, 1 << 20);
  ASSERT_FALSE(small.ok());
  EXPECT_NE(small.message().find("at least one per layer"), std::string::npos) << small.message();
  auto big = plan_vram(needs(), RamBudget{5000, 0}, 4000);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.message().find("exceeds the device's free"), std::string::npos) << big.message();
}

TEST(VramExpertCache, HitsAfterTheFirstUseAndSlotsStayWithinTheLayer) {
  VramExpertCache c(2, 8, 6);  // 3 slots per layer
  EXPECT_EQ(c.slots_of_layer(0), 3);
  const auto a = c.use(0, 5);
  EXPECT_FALSE(a.hit);
  EXPECT_EQ(a.slot, 0);
  c.clear_busy();
  const auto again = c.use(0, 5);
  EXPECT_TRUE(again.hit);
  EXPECT_EQ(again.slot, 0);
  const auto other_layer = c.use(1, 5);
  EXPECT_FALSE(other_layer.hit);
  EXPECT_GE(other_layer.slot, 3);  // layer 1 owns slots 3..5
}

TEST(VramExpertCache, EvictsTheLeastRecentlyUsedButNeverABusyExpert) {
  VramExpertCache c(1, 8, 2);
  const int s0 = c.use(0, 0).slot;
  const int s1 = c.use(0, 1).slot;
  EXPECT_NE(s0, s1);
  // Both busy (this call): no slot for a third expert.
  EXPECT_EQ(c.use(0, 2).slot, -1);
  c.clear_busy();
  (void)c.use(0, 0);  // 0 is now the most recent
  c.clear_busy();
  const auto p = c.use(0, 2);
  EXPECT_EQ(p.evicted, 1);
  EXPECT_EQ(p.slot, s1);
  EXPECT_FALSE(c.resident(0, 1));
  EXPECT_TRUE(c.resident(0, 0));
}

TEST(VramExpertCache, PrefetchAdmitsWithoutMarkingBusy) {
  VramExpertCache c(1, 8, 1);
  const auto p = c.prefetch(0, 3);
  EXPECT_EQ(p.slot, 0);
  EXPECT_FALSE(p.hit);
  EXPECT_TRUE(c.resident(0, 3));
  EXPECT_EQ(c.prefetch(0, 3).slot, -1);  // already resident: nothing to upload
  // Not busy: a demand use of another expert may take the slot.
  const auto d = c.use(0, 4);
  EXPECT_EQ(d.slot, 0);
  EXPECT_EQ(d.evicted, 3);
}

}  // namespace
}  // namespace moe::cuda
