// Activation quantization (Q8_0, Q8_K): every SIMD level must produce the same bytes as the
// scalar reference, and the scalar reference must match ggml's quantizers (Q8_0: the
// quantize_row reference of core/quant, byte for byte; Q8_K: its defining properties).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/quant/blocks.h"
#include "core/quant/cpu_features.h"
#include "core/quant/quant.h"

namespace moe {
namespace {

/// Restores the SIMD level a test changed.
struct LevelGuard {
  SimdLevel saved = active_simd_level();
  ~LevelGuard() { set_simd_level(saved); }
};

// Random activations with awkward blocks mixed in: all zero, a single spike, negative
// extremes, tiny values (fp16-subnormal Q8_0 scales), and exact .5 multiples.
std::vector<float> make_activations(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng);
  for (int64_t b = 0; b * 256 < n; ++b) {
    float* blk = x.data() + b * 256;
    const int64_t len = std::min<int64_t>(256, n - b * 256);
    switch (b % 6) {
      case 1:
        std::fill(blk, blk + std::min<int64_t>(len, 64), 0.0f);
        break;
      case 2:
        blk[len / 2] = -40.0f;
        break;
      case 3:
        for (int64_t j = 0; j < len; ++j) blk[j] *= 1e-4f;
        break;
      case 4:
        // amax 127 per 32 -> scale exactly 1: every other value is a rounding tie k + 0.5.
        for (int64_t j = 0; j < len; ++j) {
          blk[j] = j % 32 == 0 ? 127.0f : static_cast<float>((j * 7) % 250 - 125) + 0.5f;
        }
        break;
      default:
        break;
    }
  }
  return x;
}

std::vector<SimdLevel> levels_to_check() {
  std::vector<SimdLevel> out;
  for (SimdLevel l : {SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (static_cast<int>(l) <= static_cast<int>(best_simd_level())) out.push_back(l);
  }
  return out;
}

std::vector<uint8_t> quantize_at(SimdLevel level, GgmlType weight_type,
                                 const std::vector<float>& x) {
  set_simd_level(level);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> out(row_bytes(vec_dot_type(weight_type), n), 0xAA);
  quantize_activation(weight_type, x.data(), out.data(), n);
  return out;
}

class ActQuantSimd : public ::testing::TestWithParam<GgmlType> {};

TEST_P(ActQuantSimd, SimdBytesEqualScalar) {
  LevelGuard guard;
  const GgmlType wt = GetParam();
  if (levels_to_check().empty()) GTEST_SKIP() << "this CPU/OS has no AVX2: only scalar to test";
  for (int64_t n : {256, 512, 4096, 14336}) {
    const auto x = make_activations(n, static_cast<uint32_t>(n));
    const auto ref = quantize_at(SimdLevel::kScalar, wt, x);
    for (SimdLevel l : levels_to_check()) {
      const auto got = quantize_at(l, wt, x);
      ASSERT_EQ(got.size(), ref.size());
      EXPECT_EQ(std::memcmp(got.data(), ref.data(), ref.size()), 0)
          << simd_level_name(l) << " n=" << n << " type " << type_name(vec_dot_type(wt));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ActQuantSimd, ::testing::Values(GgmlType::Q4_0, GgmlType::Q4_K),
                         [](const auto& tp) { return std::string(type_name(tp.param)); });

TEST(ActQuant, LevelsAboveBestAreSkippedExplicitly) {
  if (best_simd_level() < SimdLevel::kAvx512) {
    GTEST_SKIP() << "AVX-512 (F+BW+VL+DQ with OS ZMM state) not available here";
  }
  LevelGuard guard;
  set_simd_level(SimdLevel::kAvx512);
  EXPECT_EQ(active_simd_level(), SimdLevel::kAvx512);
}

TEST(ActQuant, SetLevelClampsToBest) {
  LevelGuard guard;
  set_simd_level(SimdLevel::kAvx512);
  EXPECT_LE(static_cast<int>(active_simd_level()), static_cast<int>(best_simd_level()));
  set_simd_level(SimdLevel::kScalar);
  EXPECT_EQ(active_simd_level(), SimdLevel::kScalar);
  EXPECT_EQ(simd_level_name(SimdLevel::kAvx2), "avx2");
}

TEST(ActQuant, Q8_0ScalarMatchesReferenceQuantizer) {
  LevelGuard guard;
  const int64_t n = 4096;
  const auto x = make_activations(n, 7);
  const auto act = quantize_at(SimdLevel::kScalar, GgmlType::Q4_0, x);
  std::vector<uint8_t> ref(row_bytes(GgmlType::Q8_0, n));
  ASSERT_TRUE(quantize_row(GgmlType::Q8_0, x.data(), ref.data(), n));
  EXPECT_EQ(std::memcmp(act.data(), ref.data(), ref.size()), 0);
}

TEST(ActQuant, Q8_KScalarProperties) {
  LevelGuard guard;
  const int64_t n = 2048;
  const auto x = make_activations(n, 11);
  const auto act = quantize_at(SimdLevel::kScalar, GgmlType::Q4_K, x);
  const auto* y = reinterpret_cast<const BlockQ8_K*>(act.data());
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    const float* xb = x.data() + b * kQK_K;
    int first_max = 0;  // element of largest magnitude, first on ties
    for (int j = 1; j < kQK_K; ++j) {
      if (std::fabs(xb[j]) > std::fabs(xb[first_max])) first_max = j;
    }
    EXPECT_EQ(y[b].qs[first_max], -127) << "block " << b;
    for (int g = 0; g < kQK_K / 16; ++g) {
      int s = 0;
      for (int j = 0; j < 16; ++j) s += y[b].qs[16 * g + j];
      EXPECT_EQ(y[b].bsums[g], s);
    }
    for (int j = 0; j < kQK_K; ++j) {  // |d q - x| <= |d| / 2 (+ float slack)
      EXPECT_LE(std::fabs(y[b].d * y[b].qs[j] - xb[j]), 0.5f * std::fabs(y[b].d) * 1.001f + 1e-12f);
    }
  }
  // dequantize_row(Q8_K) reads the same layout back.
  std::vector<float> back(static_cast<size_t>(n));
  dequantize_row(GgmlType::Q8_K, act.data(), back.data(), n);
  EXPECT_FLOAT_EQ(back[5], y[0].d * y[0].qs[5]);
}

TEST(ActQuant, FloatWeightsTakeFloatActivations) {
  EXPECT_EQ(vec_dot_type(GgmlType::F16), GgmlType::F32);
  EXPECT_EQ(vec_dot_type(GgmlType::BF16), GgmlType::F32);
  EXPECT_EQ(vec_dot_type(GgmlType::Q5_1), GgmlType::Q8_0);
  EXPECT_EQ(vec_dot_type(GgmlType::Q6_K), GgmlType::Q8_K);
  const std::vector<float> x = {1.0f, -2.5f, 3.0f, 0.0f};
  std::vector<float> out(4);
  quantize_activation(GgmlType::F16, x.data(), out.data(), 4);
  EXPECT_EQ(out, x);
}

}  // namespace
}  // namespace moe
