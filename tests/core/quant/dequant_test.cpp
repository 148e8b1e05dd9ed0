// Half/bfloat16 conversions and row dequantization, checked bit-exactly: conversions
// exhaustively and on edge values (ggml semantics), dequantization against the gguf package's
// output on seeded random blocks (tests/fixtures/quant/dequant_*.bin, see
// tools/make_quant_fixtures.py).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "core/quant/quant.h"
#include "core/quant/types.h"
#include "tests/core/quant/quant_fixture.h"

namespace moe {
namespace {

uint32_t bits(float f) {
  return std::bit_cast<uint32_t>(f);
}
float from_bits(uint32_t u) {
  return std::bit_cast<float>(u);
}
bool is_half_nan(uint16_t h) {
  return (h & 0x7C00u) == 0x7C00u && (h & 0x03FFu) != 0;
}

TEST(Fp16, ToFp32KnownValues) {
  EXPECT_EQ(fp16_to_fp32(0x3C00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0xC000), -2.0f);
  EXPECT_EQ(fp16_to_fp32(0x3555), 0.333251953125f);
  EXPECT_EQ(fp16_to_fp32(0x7BFF), 65504.0f);
  EXPECT_EQ(fp16_to_fp32(0xFBFF), -65504.0f);
  EXPECT_EQ(fp16_to_fp32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(fp16_to_fp32(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(bits(fp16_to_fp32(0x0000)), 0x00000000u);
  EXPECT_EQ(bits(fp16_to_fp32(0x8000)), 0x80000000u);  // -0 keeps its sign
  EXPECT_EQ(bits(fp16_to_fp32(0x7C00)), 0x7F800000u);
  EXPECT_EQ(bits(fp16_to_fp32(0xFC00)), 0xFF800000u);
  EXPECT_EQ(bits(fp16_to_fp32(0x7E00)), 0x7FC00000u);
  EXPECT_EQ(bits(fp16_to_fp32(0x7C01)), 0x7FC02000u);  // signalling NaN: payload kept, quieted
}

// Every half value: exact by construction (sign, rebiased exponent, shifted mantissa; subnormals
// as m * 2^-24), compared with an independent formula.
TEST(Fp16, ToFp32Exhaustive) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = fp16_to_fp32(static_cast<uint16_t>(h));
    const uint32_t e = (h >> 10) & 0x1F, m = h & 0x3FF;
    const float sign = (h & 0x8000) ? -1.0f : 1.0f;
    if (e == 31) {
      if (m == 0) {
        ASSERT_EQ(f, sign * std::numeric_limits<float>::infinity()) << h;
      } else {
        ASSERT_TRUE(std::isnan(f)) << h;
        ASSERT_EQ(bits(f) & 0x807FE000u, ((h & 0x8000u) << 16) | 0x00400000u | (m << 13)) << h;
      }
      continue;
    }
    const float expect =
        e == 0 ? sign * std::ldexp(static_cast<float>(m), -24)
               : sign * std::ldexp(static_cast<float>(m + 1024), static_cast<int>(e) - 25);
    ASSERT_EQ(bits(f), bits(expect)) << "half 0x" << std::hex << h;
  }
}

TEST(Fp16, RoundTripEveryHalf) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto hh = static_cast<uint16_t>(h);
    const uint16_t back = fp32_to_fp16(fp16_to_fp32(hh));
    if (is_half_nan(hh)) {
      ASSERT_EQ(back, (hh & 0x8000u) | 0x7E00u) << h;  // ggml: canonical quiet NaN
    } else {
      ASSERT_EQ(back, hh) << "half 0x" << std::hex << h;
    }
  }
}

// Round to nearest even at every midpoint between adjacent finite halves (including the
// subnormal range and the boundary to inf), and to nearest just either side of it.
TEST(Fp16, FromFp32RoundsToNearestEvenEverywhere) {
  for (uint32_t h = 0; h < 0x7BFF + 1; ++h) {
    for (uint32_t s : {0u, 0x8000u}) {
      const auto lo = static_cast<uint16_t>(h | s), hi = static_cast<uint16_t>((h + 1) | s);
      const double mid_d =
          (static_cast<double>(fp16_to_fp32(lo)) + static_cast<double>(fp16_to_fp32(hi))) / 2;
      if (std::isinf(mid_d)) continue;
      const auto mid = static_cast<float>(mid_d);  // exact: 12 significant bits
      ASSERT_EQ(static_cast<double>(mid), mid_d);
      const uint16_t even = (h & 1) ? hi : lo;
      ASSERT_EQ(fp32_to_fp16(mid), even) << "between 0x" << std::hex << lo << " and " << hi;
      const float toward_zero = std::nextafter(mid, 0.0f);
      const float away = std::nextafter(mid, s ? -INFINITY : INFINITY);
      ASSERT_EQ(fp32_to_fp16(toward_zero), lo) << std::hex << lo;
      ASSERT_EQ(fp32_to_fp16(away), hi) << std::hex << lo;
    }
  }
}

TEST(Fp16, FromFp32EdgeValues) {
  EXPECT_EQ(fp32_to_fp16(0.0f), 0x0000);
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65519.996f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // tie with inf rounds to the even "inf"
  EXPECT_EQ(fp32_to_fp16(-1e9f), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(INFINITY), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(-INFINITY), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (zero)
  EXPECT_EQ(fp32_to_fp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(-std::ldexp(3.0f, -26)), 0x8001);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -14)), 0x0400);
  EXPECT_EQ(fp32_to_fp16(std::nextafter(std::ldexp(1.0f, -14), 0.0f)), 0x0400);  // rounds up
  EXPECT_EQ(fp32_to_fp16(from_bits(0x00000001u)), 0x0000);                       // f32 subnormal
  EXPECT_EQ(fp32_to_fp16(from_bits(0x80000001u)), 0x8000);
  EXPECT_EQ(fp32_to_fp16(from_bits(0x7F800001u)), 0x7E00);  // NaN -> quiet NaN (ggml)
  EXPECT_EQ(fp32_to_fp16(from_bits(0xFFC00000u)), 0xFE00);
}

TEST(Bf16, ToFp32Exhaustive) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    ASSERT_EQ(bits(bf16_to_fp32(static_cast<uint16_t>(h))), h << 16);
  }
}

TEST(Bf16, FromFp32AsGgml) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F808001u)), 0x3F81);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x3F807FFFu)), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x7F7FFFFFu)), 0x7F80);  // FLT_MAX rounds to inf
  EXPECT_EQ(fp32_to_bf16(INFINITY), 0x7F80);
  EXPECT_EQ(fp32_to_bf16(-INFINITY), 0xFF80);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x00000001u)), 0x0000);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x7F800001u)), 0x7FC0);  // NaN forced quiet, not rounded
  EXPECT_EQ(fp32_to_bf16(from_bits(0xFFFFFFFFu)), 0xFFFF);
  EXPECT_EQ(fp32_to_bf16(from_bits(0x7FBFFFFFu)), 0x7FFF);
}

// --- dequantize_row against gguf.quants.dequantize -----------------------------------------

class DequantFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(DequantFixture, BitExactWithGguf) {
  const std::string type_name_str = GetParam();
  std::string why;
  const auto fx = test::load_quant_fixture("dequant_" + type_name_str + ".bin", &why);
  ASSERT_TRUE(fx.has_value()) << why;
  ASSERT_EQ(fx->kind, 0u);
  const TypeTraits* tt = type_traits(fx->type);
  ASSERT_NE(tt, nullptr);
  ASSERT_EQ(tt->name, type_name_str);
  const int64_t n = fx->n_per_row;
  const size_t rb = row_bytes(tt->type, n);
  ASSERT_EQ(fx->input.size(), rb * fx->n_rows);
  ASSERT_EQ(fx->output.size(), sizeof(float) * static_cast<size_t>(n) * fx->n_rows);

  std::vector<float> got(static_cast<size_t>(n));
  for (uint32_t r = 0; r < fx->n_rows; ++r) {
    std::fill(got.begin(), got.end(), -12345.0f);
    dequantize_row(tt->type, fx->input.data() + r * rb, got.data(), n);
    const uint8_t* want = fx->output.data() + r * n * sizeof(float);
    if (std::memcmp(got.data(), want, got.size() * sizeof(float)) == 0) continue;
    for (int64_t i = 0; i < n; ++i) {
      float w;
      std::memcpy(&w, want + i * sizeof(float), sizeof(float));
      ASSERT_EQ(bits(got[i]), bits(w)) << type_name_str << " row " << r << " element " << i
                                       << ": got " << got[i] << ", gguf says " << w;
    }
  }
  // The whole tensor as one long row gives the same bytes (rows are contiguous blocks).
  std::vector<float> all(static_cast<size_t>(n) * fx->n_rows);
  dequantize_row(tt->type, fx->input.data(), all.data(), static_cast<int64_t>(all.size()));
  EXPECT_EQ(std::memcmp(all.data(), fx->output.data(), fx->output.size()), 0);
}

// F16 rows also exercise fp16_to_fp32 directly, value by value.
TEST(DequantFixtureF16, MatchesScalarConversion) {
  std::string why;
  const auto fx = test::load_quant_fixture("dequant_F16.bin", &why);
  ASSERT_TRUE(fx.has_value()) << why;
  const size_t count = fx->input.size() / 2;
  for (size_t i = 0; i < count; ++i) {
    uint16_t h;
    float w;
    std::memcpy(&h, fx->input.data() + 2 * i, 2);
    std::memcpy(&w, fx->output.data() + 4 * i, 4);
    ASSERT_EQ(bits(fp16_to_fp32(h)), bits(w)) << "half 0x" << std::hex << h;
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DequantFixture,
                         ::testing::Values("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                                           "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

}  // namespace
}  // namespace moe
