// Reference quantizers, byte-exact (tests/fixtures/quant/quantize_*.bin, see
// tools/make_quant_fixtures.py): F16, BF16 and the 32-element formats against the gguf package
// (cross-checked there against ggml), the K-quants against ggml's own quantize_row_q*_K_ref
// (gguf.quants cannot produce them). Plus round-trip error bounds for every quantizer.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/quant/quant.h"
#include "core/quant/types.h"
#include "tests/core/quant/quant_fixture.h"

namespace moe {
namespace {

class QuantizeFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(QuantizeFixture, ByteExactWithReference) {
  const std::string name = GetParam();
  std::string why;
  const auto fx = test::load_quant_fixture("quantize_" + name + ".bin", &why);
  ASSERT_TRUE(fx.has_value()) << why;
  ASSERT_EQ(fx->kind, 1u);
  const TypeTraits* tt = type_traits(fx->type);
  ASSERT_NE(tt, nullptr);
  ASSERT_EQ(tt->name, name);
  const int64_t n = fx->n_per_row;
  const size_t rb = row_bytes(tt->type, n);
  ASSERT_EQ(fx->input.size(), sizeof(float) * static_cast<size_t>(n) * fx->n_rows);
  ASSERT_EQ(fx->output.size(), rb * fx->n_rows);

  std::vector<float> x(static_cast<size_t>(n));
  std::vector<uint8_t> got(rb);
  for (uint32_t r = 0; r < fx->n_rows; ++r) {
    std::memcpy(x.data(), fx->input.data() + r * n * sizeof(float), n * sizeof(float));
    std::fill(got.begin(), got.end(), 0xAB);
    ASSERT_TRUE(quantize_row(tt->type, x.data(), got.data(), n));
    const uint8_t* want = fx->output.data() + r * rb;
    for (size_t i = 0; i < rb; ++i) {
      ASSERT_EQ(got[i], want[i]) << name << " row " << r << " byte " << i << " (block "
                                 << i / tt->type_size << ", offset " << i % tt->type_size << ")";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, QuantizeFixture,
                         ::testing::Values("F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0",
                                           "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

TEST(Quantize, F32IsACopy) {
  const std::vector<float> x = {1.5f, -0.0f, INFINITY, 3e-40f};
  std::vector<float> y(4);
  ASSERT_TRUE(quantize_row(GgmlType::F32, x.data(), y.data(), 4));
  EXPECT_EQ(std::memcmp(x.data(), y.data(), sizeof(float) * 4), 0);
}

TEST(Quantize, RefusesTypesWithoutQuantizerAndBadLengths) {
  std::vector<float> x(512, 1.0f);
  std::vector<uint8_t> y(4096);
  for (GgmlType t : {GgmlType::Q8_K, GgmlType::Q8_1, GgmlType::IQ2_XXS, GgmlType::IQ4_XS,
                     GgmlType::I32, GgmlType::MXFP4}) {
    EXPECT_FALSE(quantize_row(t, x.data(), y.data(), 256)) << type_name(t);
  }
  EXPECT_FALSE(quantize_row(static_cast<GgmlType>(99), x.data(), y.data(), 32));
  EXPECT_FALSE(quantize_row(GgmlType::Q4_0, x.data(), y.data(), 33));
  EXPECT_FALSE(quantize_row(GgmlType::Q4_K, x.data(), y.data(), 128));
}

// --- K-quants: round trip -------------------------------------------------------------------

std::vector<float> gaussian_rows(int rows, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::uniform_real_distribution<float> e(-3.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(rows) * n);
  for (int r = 0; r < rows; ++r) {
    const float scale = std::pow(10.0f, e(rng));  // each row its own magnitude
    for (int i = 0; i < n; ++i) x[static_cast<size_t>(r) * n + i] = g(rng) * scale;
  }
  return x;
}

// RMS(dequant(quant(x)) - x) / RMS(x) over rows of Gaussian data.
double relative_rms_error(GgmlType t, const std::vector<float>& x, int n) {
  const size_t rb = row_bytes(t, n);
  const size_t rows = x.size() / n;
  std::vector<uint8_t> q(rb);
  std::vector<float> y(n);
  double err = 0, ref = 0;
  for (size_t r = 0; r < rows; ++r) {
    const float* xr = x.data() + r * n;
    EXPECT_TRUE(quantize_row(t, xr, q.data(), n));
    dequantize_row(t, q.data(), y.data(), n);
    double e_row = 0, r_row = 0;
    for (int i = 0; i < n; ++i) {
      e_row += (double(y[i]) - xr[i]) * (double(y[i]) - xr[i]);
      r_row += double(xr[i]) * xr[i];
    }
    err += e_row / r_row;  // each row weighs the same whatever its magnitude
    ref += 1;
  }
  return std::sqrt(err / ref);
}

struct KBound {
  GgmlType type;
  double max_rel_rms;  // bound asserted
};

// Bounds sit ~10-25% above what the reference quantizers reach on Gaussian rows (measured
// values in docs/quant.md); a broken packing or scale search lands far above them.
class KQuantRoundTrip : public ::testing::TestWithParam<KBound> {};

TEST_P(KQuantRoundTrip, RelativeRmsErrorBelowBound) {
  const KBound b = GetParam();
  const int n = 1024;
  const auto x = gaussian_rows(16, n, 1234);
  const double rel = relative_rms_error(b.type, x, n);
  RecordProperty("relative_rms_error", std::to_string(rel));
  EXPECT_LT(rel, b.max_rel_rms) << type_name(b.type);
  EXPECT_GT(rel, 0.0) << type_name(b.type);
}

INSTANTIATE_TEST_SUITE_P(KQuants, KQuantRoundTrip,
                         ::testing::Values(KBound{GgmlType::Q2_K, 0.35},
                                           KBound{GgmlType::Q3_K, 0.18},
                                           KBound{GgmlType::Q4_K, 0.085},
                                           KBound{GgmlType::Q5_K, 0.043},
                                           KBound{GgmlType::Q6_K, 0.02}),
                         [](const ::testing::TestParamInfo<KBound>& param_info) {
                           return std::string(type_name(param_info.param.type));
                         });

// Legacy formats too, so that every quantizer has a numeric bound next to its exactness test.
TEST(LegacyRoundTrip, RelativeRmsErrorBelowBound) {
  const auto x = gaussian_rows(16, 1024, 99);
  EXPECT_LT(relative_rms_error(GgmlType::Q8_0, x, 1024), 0.0065);
  EXPECT_LT(relative_rms_error(GgmlType::Q5_1, x, 1024), 0.045);
  EXPECT_LT(relative_rms_error(GgmlType::Q5_0, x, 1024), 0.05);
  EXPECT_LT(relative_rms_error(GgmlType::Q4_1, x, 1024), 0.095);
  EXPECT_LT(relative_rms_error(GgmlType::Q4_0, x, 1024), 0.1);
  EXPECT_LT(relative_rms_error(GgmlType::F16, x, 1024), 3e-4);
  EXPECT_LT(relative_rms_error(GgmlType::BF16, x, 1024), 2e-3);
}

// Data on a format's grid (integer levels times a power-of-two step, with the extreme level
// present so the absmax / min-max scale lands exactly) survives quantize -> dequantize bit for
// bit. Holds for the 32-element formats, Q3_K and Q6_K; the Q2_K/Q4_K/Q5_K scale searches and
// their 6-bit sub-scales over d = max/63 are not exact on such data (same bytes as ggml).
struct Grid {
  GgmlType type;
  int lo, hi;       // level range, as signed values (x = step * level)
  int group;        // elements sharing one step (fp16 super-scale)
  int sub;          // sub-block: each needs the extreme level(s) so that its scale is exact
  bool needs_both;  // min-max formats: both ends present; absmax formats: lo present
};

class ExactGrid : public ::testing::TestWithParam<Grid> {};

TEST_P(ExactGrid, RoundTripIsExact) {
  const Grid g = GetParam();
  const int n = 512;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> level(g.lo, g.hi);
  std::uniform_int_distribution<int> expo(-12, 4);
  std::vector<float> x(n), y(n);
  for (int b = 0; b < n / g.group; ++b) {
    const float step = std::ldexp(1.0f, expo(rng)) * ((b % 3 == 0) ? -1.0f : 1.0f);
    for (int i = 0; i < g.group; ++i) x[b * g.group + i] = step * float(level(rng));
    for (int s = 0; s < g.group; s += g.sub) {
      x[b * g.group + s + 3] = step * float(g.lo);  // pins the scale
      if (g.needs_both) x[b * g.group + s + 11] = step * float(g.hi);
    }
  }
  std::vector<uint8_t> q(row_bytes(g.type, n));
  ASSERT_TRUE(quantize_row(g.type, x.data(), q.data(), n));
  dequantize_row(g.type, q.data(), y.data(), n);
  for (int i = 0; i < n; ++i) ASSERT_EQ(y[i], x[i]) << type_name(g.type) << " element " << i;
}

INSTANTIATE_TEST_SUITE_P(Formats, ExactGrid,
                         ::testing::Values(Grid{GgmlType::Q8_0, -127, 127, 32, 32, true},
                                           Grid{GgmlType::Q4_0, -8, 7, 32, 32, false},
                                           Grid{GgmlType::Q5_0, -16, 15, 32, 32, false},
                                           Grid{GgmlType::Q4_1, 0, 15, 32, 32, true},
                                           Grid{GgmlType::Q5_1, 0, 31, 32, 32, true},
                                           Grid{GgmlType::Q3_K, -4, 3, 256, 16, false},
                                           Grid{GgmlType::Q6_K, -32, 31, 256, 16, false}),
                         [](const ::testing::TestParamInfo<Grid>& param_info) {
                           return std::string(type_name(param_info.param.type));
                         });

TEST(KQuantExact, ZerosGiveZeroBlocks) {
  for (GgmlType t :
       {GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    std::vector<float> x(512, 0.0f), y(512, 1.0f);
    std::vector<uint8_t> q(row_bytes(t, 512), 0xAB);
    ASSERT_TRUE(quantize_row(t, x.data(), q.data(), 512));
    dequantize_row(t, q.data(), y.data(), 512);
    for (float v : y) ASSERT_EQ(v, 0.0f) << type_name(t);
  }
}
}  // namespace
}  // namespace moe
