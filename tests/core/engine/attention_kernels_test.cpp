#include "core/engine/attention_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/quant/cpu_features.h"
#include "core/quant/quant.h"

namespace moe {
namespace {

// scores and mix of every kernel set against double-precision sums, F32 and F16 rows, for 1 and
// several query heads per KV head.
TEST(AttentionKernels, ScoresAndMixMatchDoubleReference) {
  std::vector<const attn::Kernels*> sets = {&attn::scalar_kernels(), &attn::kernels()};
  const CpuFeatures& f = cpu_features();
  if (best_simd_level() >= SimdLevel::kAvx2 && f.f16c && f.fma) {
    sets.push_back(&attn::avx2_kernels());
  }
  if (best_simd_level() >= SimdLevel::kAvx512 && f.f16c && f.fma) {
    sets.push_back(&attn::avx512_kernels());
  }
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0, 1);
  for (int g : {1, 2, 3, 4}) {
    for (int hd : {8, 20, 64, 72, 128}) {
      const int n_pos = 37, stride = hd * 2 + 8;  // rows further apart than hd (GQA layout)
      const size_t ss = 40;                       // score row stride >= n_pos
      std::vector<float> q(static_cast<size_t>(g * hd)), k32(static_cast<size_t>(n_pos * stride)),
          v32(k32.size());
      std::vector<uint16_t> k16(k32.size()), v16(k32.size());
      for (auto& x : q) x = nd(rng);
      for (size_t i = 0; i < k32.size(); ++i) {
        k16[i] = fp32_to_fp16(nd(rng));
        v16[i] = fp32_to_fp16(nd(rng));
        k32[i] = fp16_to_fp32(k16[i]);  // same values in both layouts
        v32[i] = fp16_to_fp32(v16[i]);
      }
      std::vector<double> s_ref(g * ss, 0), o_ref(static_cast<size_t>(g * hd), 0);
      std::vector<float> w(g * ss, 0);
      for (int h = 0; h < g; ++h) {
        for (int p = 0; p < n_pos; ++p) {
          double d = 0;
          for (int i = 0; i < hd; ++i)
            d += static_cast<double>(q[h * hd + i]) * k32[p * stride + i];
          s_ref[h * ss + p] = 0.5 * d;
          w[h * ss + p] = static_cast<float>(p + 1 + h) / n_pos;
          for (int i = 0; i < hd; ++i) {
            o_ref[h * hd + i] += static_cast<double>(w[h * ss + p]) * v32[p * stride + i];
          }
        }
      }
      for (const attn::Kernels* ks : sets) {
        std::vector<float> s(g * ss), o(static_cast<size_t>(g * hd), 99.0f);
        auto check_s = [&] {
          for (int h = 0; h < g; ++h) {
            for (int p = 0; p < n_pos; ++p) {
              EXPECT_NEAR(s[h * ss + p], s_ref[h * ss + p], 1e-4) << g << " " << hd << " " << p;
            }
          }
        };
        auto check_o = [&] {
          for (size_t i = 0; i < o.size(); ++i) EXPECT_NEAR(o[i], o_ref[i], 1e-4) << hd << " " << i;
        };
        ks->f32.scores(q.data(), g, k32.data(), stride, n_pos, hd, 0.5f, s.data(), ss);
        check_s();
        ks->f16.scores(q.data(), g, k16.data(), stride, n_pos, hd, 0.5f, s.data(), ss);
        check_s();
        ks->f32.mix(w.data(), ss, g, v32.data(), stride, n_pos, hd, o.data());
        check_o();
        std::fill(o.begin(), o.end(), 99.0f);
        ks->f16.mix(w.data(), ss, g, v16.data(), stride, n_pos, hd, o.data());
        check_o();
      }
    }
  }
}

// The grouped SIMD paths (4 heads x 2 positions for scores, 2-4 heads in registers for mix)
// give exactly the results of one head at a time: same operations per output element. And mix
// is the same in every SIMD set.
std::vector<const attn::Kernels*> simd_sets() {
  std::vector<const attn::Kernels*> sets;
  const CpuFeatures& f = cpu_features();
  if (best_simd_level() >= SimdLevel::kAvx2 && f.f16c && f.fma) sets.push_back(&attn::avx2_kernels());
  if (best_simd_level() >= SimdLevel::kAvx512 && f.f16c && f.fma) {
    sets.push_back(&attn::avx512_kernels());
  }
  return sets;
}

TEST(AttentionKernels, GroupedHeadsEqualOneHeadAtATime) {
  if (simd_sets().empty()) GTEST_SKIP() << "no SIMD attention kernels on this CPU";
  for (const attn::Kernels* set : simd_sets()) {
  for (const int hd : {64, 128}) {
  const attn::Kernels& ks = *set;
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0, 1);
  const int n_pos = 37, stride = 4 * hd, ss = 40;
  std::vector<float> q(4 * hd), k(static_cast<size_t>(n_pos * stride)), v(k.size()), w(4 * ss);
  for (auto* vec : {&q, &k, &v, &w}) {
    for (auto& x : *vec) x = nd(rng);
  }
  for (int g : {2, 3, 4}) {
    std::vector<float> s(g * ss, 0), s1(g * ss, 0), o(g * hd), o1(g * hd);
    ks.f32.scores(q.data(), g, k.data(), stride, n_pos, hd, 0.125f, s.data(), ss);
    ks.f32.mix(w.data(), ss, g, v.data(), stride, n_pos, hd, o.data());
    for (int h = 0; h < g; ++h) {
      ks.f32.scores(q.data() + h * hd, 1, k.data(), stride, n_pos, hd, 0.125f, s1.data() + h * ss,
                    ss);
      ks.f32.mix(w.data() + h * ss, ss, 1, v.data(), stride, n_pos, hd, o1.data() + h * hd);
    }
    for (int i = 0; i < g * ss; ++i) EXPECT_EQ(s[i], s1[i]) << "g " << g << " at " << i;
    for (int i = 0; i < g * hd; ++i) EXPECT_EQ(o[i], o1[i]) << "g " << g << " at " << i;
    std::vector<float> o2(g * hd);
    simd_sets().front()->f32.mix(w.data(), ss, g, v.data(), stride, n_pos, hd, o2.data());
    for (int i = 0; i < g * hd; ++i) EXPECT_EQ(o[i], o2[i]) << "mix across sets, g " << g;
  }
  }
  }
}

// The SIMD fp16 conversion of the new K/V rows equals the portable one for every non-NaN
// value (normal, subnormal, overflow to infinity, ties), NaN stays NaN.
TEST(AttentionKernels, F16ConversionEqualsPortableOne) {
  std::vector<float> x;
  std::mt19937 rng(11);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 20000; ++i) {
    const uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, 4);
    if (!std::isnan(f)) x.push_back(f);
  }
  for (float f : {0.0f, -0.0f, 65504.0f, 65520.0f, 1e-8f, 5.96e-8f, 2.98e-8f, 1.0009765625f,
                  1.00048828125f, -3.4e38f}) {
    x.push_back(f);
  }
  x.push_back(std::nanf(""));
  const int n = static_cast<int>(x.size());
  std::vector<uint16_t> want(x.size()), got(x.size());
  attn::scalar_kernels().to_f16(x.data(), want.data(), n);
  for (const attn::Kernels* set : simd_sets()) {
    set->to_f16(x.data(), got.data(), n);
    for (int i = 0; i + 1 < n; ++i) ASSERT_EQ(got[i], want[i]) << "value " << x[i];
    EXPECT_TRUE(std::isnan(fp16_to_fp32(got[n - 1])));
  }
}

}  // namespace
}  // namespace moe
