// The small vectorisable forward-pass operations of session_ops.h against libm references.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <limits>
#include <random>
#include <vector>

#include "core/engine/session_ops.h"

namespace moe {
namespace {

TEST(SessionOps, ExpFastMatchesLibmWithinAnUlp) {
  double worst = 0, at = 0;
  for (double x = -87.0; x <= 88.0; x += 1e-4) {
    const float xf = static_cast<float>(x);
    const double want = std::exp(static_cast<double>(xf));
    const double rel = std::fabs(ops::exp_fast(xf) - want) / want;
    if (rel > worst) worst = rel, at = xf;
  }
  EXPECT_LT(worst, 1.5e-7) << "at x = " << at;
  RecordProperty("worst_relative_error", std::to_string(worst));
  std::printf("exp_fast: worst relative error %.3g at x = %.6g\n", worst, at);
  EXPECT_EQ(ops::exp_fast(0.0f), 1.0f);
}

TEST(SessionOps, ExpFastEdges) {
  EXPECT_EQ(ops::exp_fast(-88.0f), 0.0f);
  EXPECT_EQ(ops::exp_fast(-std::numeric_limits<float>::infinity()), 0.0f);
  EXPECT_TRUE(std::isfinite(ops::exp_fast(1000.0f)));
  EXPECT_TRUE(std::isnan(ops::exp_fast(std::numeric_limits<float>::quiet_NaN())));
  // SiLU saturates cleanly at both ends.
  EXPECT_NEAR(ops::silu(-200.0f), 0.0f, 1e-30f);
  EXPECT_FLOAT_EQ(ops::silu(200.0f), 200.0f);
}

TEST(SessionOps, SoftmaxMatchesDoublePrecisionReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0.0f, 4.0f);
  for (int n : {1, 7, 8, 9, 160, 1001}) {
    std::vector<float> x(static_cast<size_t>(n));
    for (auto& v : x) v = d(rng);
    std::vector<double> ref(x.begin(), x.end());
    double mx = ref[0], sum = 0;
    for (double v : ref) mx = std::max(mx, v);
    for (double& v : ref) sum += (v = std::exp(v - mx));
    ops::softmax(x.data(), n);
    double total = 0;
    for (int i = 0; i < n; ++i) {
      EXPECT_NEAR(x[static_cast<size_t>(i)], ref[static_cast<size_t>(i)] / sum,
                  1e-6 * ref[static_cast<size_t>(i)] / sum + 1e-12)
          << "n=" << n << " i=" << i;
      total += x[static_cast<size_t>(i)];
    }
    EXPECT_NEAR(total, 1.0, 1e-6) << "n=" << n;
  }
}

}  // namespace
}  // namespace moe
