// Prefetch depth chosen by measured accuracy (core/store/prefetch_depth.h): shallower after a
// window of guesses mostly wrong, deeper (to the maximum) after one mostly right, a probe at
// depth 1 after a while at 0, nothing below 0 or above the maximum.
#include "core/store/prefetch_depth.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace moe {
namespace {

void settle(PrefetchDepth& d, int used, int wasted) {
  for (int i = 0; i < used; ++i) d.settled(true);
  for (int i = 0; i < wasted; ++i) d.settled(false);
}

TEST(PrefetchDepth, StepsWithTheAccuracyOfEachWindow) {
  PrefetchDepth d(2);
  EXPECT_EQ(d.depth(), 2);
  EXPECT_EQ(d.last_accuracy(), -1);
  settle(d, 23, 8);  // 31 settled: no window yet
  EXPECT_EQ(d.depth(), 2);
  d.settled(false);  // 23 of 32 = 0.72 < 0.75
  EXPECT_EQ(d.depth(), 1);
  EXPECT_DOUBLE_EQ(d.last_accuracy(), 23.0 / 32.0);
  settle(d, 24, 8);  // exactly 0.75: stays
  EXPECT_EQ(d.depth(), 1);
  settle(d, 10, 22);
  EXPECT_EQ(d.depth(), 0);
  settle(d, 0, 64);  // never below 0
  EXPECT_EQ(d.depth(), 0);
  EXPECT_EQ(d.changes(), 2);
}

TEST(PrefetchDepth, GoodGuessesGoBackToTheMaximumAndNoFurther) {
  PrefetchDepth d(2);
  settle(d, 0, 64);
  ASSERT_EQ(d.depth(), 0);
  // At depth 0 nothing is issued, so nothing settles: a probe after enough calls.
  for (int i = 0; i + 1 < PrefetchDepth::kProbeAfterCalls; ++i) d.on_call();
  EXPECT_EQ(d.depth(), 0);
  d.on_call();
  EXPECT_EQ(d.depth(), 1);
  settle(d, 29, 3);  // 0.906 >= 0.9
  EXPECT_EQ(d.depth(), 2);
  settle(d, 32, 0);
  EXPECT_EQ(d.depth(), 2);  // the configured maximum
  d.on_call();
  EXPECT_EQ(d.depth(), 2);
}

// A probe that finds the guesses still wrong doubles the wait before the next one, up to 16x;
// a probe that finds them right again resets it.
TEST(PrefetchDepth, FailedProbesWaitLonger) {
  PrefetchDepth d(2);
  settle(d, 0, 64);
  ASSERT_EQ(d.depth(), 0);
  const auto probe = [&d] {
    const int wait = d.probe_after();
    for (int i = 0; i < wait; ++i) d.on_call();
    return d.depth() == 1;
  };
  int expected = PrefetchDepth::kProbeAfterCalls;
  for (int round = 0; round < 6; ++round) {
    EXPECT_EQ(d.probe_after(), expected) << round;
    ASSERT_TRUE(probe()) << round;
    settle(d, 10, 22);  // still wrong: off again
    ASSERT_EQ(d.depth(), 0);
    expected = std::min(2 * expected,
                        PrefetchDepth::kMaxProbeBackoff * PrefetchDepth::kProbeAfterCalls);
  }
  EXPECT_EQ(d.probe_after(), PrefetchDepth::kMaxProbeBackoff * PrefetchDepth::kProbeAfterCalls);
  ASSERT_TRUE(probe());
  settle(d, 30, 2);  // right again
  EXPECT_EQ(d.depth(), 2);
  settle(d, 0, 64);
  EXPECT_EQ(d.depth(), 0);
  EXPECT_EQ(d.probe_after(), PrefetchDepth::kProbeAfterCalls);
}

TEST(PrefetchDepth, ZeroMaximumNeverProbes) {
  PrefetchDepth d(0);
  for (int i = 0; i < 2 * PrefetchDepth::kProbeAfterCalls; ++i) d.on_call();
  settle(d, 64, 0);
  EXPECT_EQ(d.depth(), 0);
  EXPECT_EQ(d.changes(), 0);
}

}  // namespace
}  // namespace moe
