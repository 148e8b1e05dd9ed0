// Order statistics shared by bench, wdmoe-sim and calibrate (core/util/percentile.h).
#include "core/util/percentile.h"

#include <gtest/gtest.h>

namespace moe {
namespace {

TEST(Percentile, InterpolatesBetweenRanksAndHandlesTheEdges) {
  const std::vector<double> v = {4, 1, 3, 2};  // unsorted on purpose
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 1), 4);
  EXPECT_DOUBLE_EQ(percentile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(percentile(v, 0.9), 3.7);
  EXPECT_DOUBLE_EQ(median(v), 2.5);
  EXPECT_DOUBLE_EQ(median({5, 1, 9}), 5);
  EXPECT_DOUBLE_EQ(percentile({}, 0.5), 0);
  EXPECT_DOUBLE_EQ(percentile({7}, 0.9), 7);
}

}  // namespace
}  // namespace moe
