// Dot-product kernels, every computable weight type x every SIMD level the machine has.
//
// Weights are random block bytes (random codes, sub-block scales and high bits) with sane
// finite fp16 super-block scales, which exercises every bit of every field, not only what a
// quantizer happens to emit. Tolerances, with S = sum_i |w_i * a_i| over the dequantized
// weights w and activations a, computed in double:
//   SIMD vs scalar:                 |dot_simd - dot_scalar| <= 1e-5 * S   (summation order)
//   scalar vs double reference:     |dot_scalar - ref|      <= 1e-5 * S
//   matvec_rows / matmul_rows vs vec_dot at the same level: exactly equal (same operations).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/quant/blocks.h"
#include "core/quant/cpu_features.h"
#include "core/quant/kernels.h"
#include "core/quant/quant.h"

namespace moe {
namespace {

constexpr double kRelTol = 1e-5;

struct LevelGuard {
  SimdLevel saved = active_simd_level();
  ~LevelGuard() { set_simd_level(saved); }
};

const GgmlType kTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::BF16, GgmlType::Q4_0,
                           GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0,
                           GgmlType::Q2_K, GgmlType::Q3_K, GgmlType::Q4_K, GgmlType::Q5_K,
                           GgmlType::Q6_K};

void put_f16(uint8_t* p, float v) {
  const uint16_t h = fp32_to_fp16(v);
  std::memcpy(p, &h, 2);
}

// One row of n elements of `type`: random bytes, then every fp16 scale field overwritten with
// a finite value (d in +-[1e-3, 2e-2], dmin / m similar) so no Inf/NaN can appear.
std::vector<uint8_t> random_row(GgmlType type, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> row(row_bytes(type, n));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> mag(1e-3f, 2e-2f), unit(-1.0f, 1.0f);
  auto scale = [&] { return (byte(rng) & 1 ? -1.0f : 1.0f) * mag(rng); };
  if (type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = unit(rng);
      if (type == GgmlType::F32) std::memcpy(row.data() + 4 * i, &v, 4);
      if (type == GgmlType::F16) put_f16(row.data() + 2 * i, v);
      if (type == GgmlType::BF16) {
        const uint16_t h = fp32_to_bf16(v);
        std::memcpy(row.data() + 2 * i, &h, 2);
      }
    }
    return row;
  }
  for (auto& b : row) b = static_cast<uint8_t>(byte(rng));
  const TypeTraits* tt = type_traits(type);
  for (int64_t b = 0; b < n / tt->block_size; ++b) {
    uint8_t* blk = row.data() + b * tt->type_size;
    switch (type) {
      case GgmlType::Q4_0:
      case GgmlType::Q5_0:
      case GgmlType::Q8_0:
        put_f16(blk, scale());
        break;
      case GgmlType::Q4_1:
      case GgmlType::Q5_1:
      case GgmlType::Q4_K:
      case GgmlType::Q5_K:  // d, then m / dmin
        put_f16(blk, scale());
        put_f16(blk + 2, scale());
        break;
      case GgmlType::Q2_K:
        put_f16(blk + offsetof(BlockQ2_K, d), scale());
        put_f16(blk + offsetof(BlockQ2_K, dmin), scale());
        break;
      case GgmlType::Q3_K:
        put_f16(blk + offsetof(BlockQ3_K, d), scale());
        break;
      case GgmlType::Q6_K:
        put_f16(blk + offsetof(BlockQ6_K, d), scale());
        break;
      default:
        ADD_FAILURE() << "no generator for " << type_name(type);
    }
  }
  return row;
}

std::vector<float> random_activation(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng);
  return x;
}

struct Problem {
  GgmlType type;
  int64_t n = 0, rows = 0;
  std::vector<uint8_t> w;    // rows x row_bytes
  std::vector<uint8_t> act;  // prepared activation (scalar quantizer)
  std::vector<double> ref;   // per row: sum w_i a_i (dequantized, double)
  std::vector<double> mag;   // per row: sum |w_i a_i|
};

Problem make_problem(GgmlType type, int64_t n, int64_t rows, uint32_t seed) {
  LevelGuard guard;
  std::mt19937 rng(seed);
  Problem p{type, n, rows, {}, {}, {}, {}};
  const size_t rb = row_bytes(type, n);
  for (int64_t r = 0; r < rows; ++r) {
    const auto row = random_row(type, n, rng);
    p.w.insert(p.w.end(), row.begin(), row.end());
  }
  EXPECT_EQ(p.w.size(), rb * static_cast<size_t>(rows));
  const auto x = random_activation(n, rng);
  const GgmlType at = vec_dot_type(type);
  p.act.resize(row_bytes(at, n));
  set_simd_level(SimdLevel::kScalar);
  quantize_activation(type, x.data(), p.act.data(), n);
  std::vector<float> a(static_cast<size_t>(n)), wf(static_cast<size_t>(n));
  dequantize_row(at, p.act.data(), a.data(), n);
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(type, p.w.data() + rb * static_cast<size_t>(r), wf.data(), n);
    double s = 0, m = 0;
    for (int64_t i = 0; i < n; ++i) {
      s += static_cast<double>(wf[i]) * a[i];
      m += std::fabs(static_cast<double>(wf[i]) * a[i]);
    }
    p.ref.push_back(s);
    p.mag.push_back(m);
  }
  return p;
}

std::vector<float> dots_at(const Problem& p, SimdLevel level) {
  set_simd_level(level);
  const size_t rb = row_bytes(p.type, p.n);
  std::vector<float> out;
  for (int64_t r = 0; r < p.rows; ++r) {
    out.push_back(vec_dot(p.type, p.n, p.w.data() + rb * static_cast<size_t>(r), p.act.data()));
  }
  return out;
}

std::vector<int64_t> lengths_for(GgmlType type) {
  if (type_traits(type)->block_size == 1) return {16, 40, 256, 4096, 4099};
  // 160 and 352: whole 4-block groups plus 1 and 3 blocks (the AVX-512 Q4_0 kernel's tail).
  if (type_traits(type)->block_size == 32) return {32, 96, 160, 352, 1024, 4096};
  return {256, 768, 4096};
}

std::vector<SimdLevel> simd_levels() {
  std::vector<SimdLevel> out;
  for (SimdLevel l : {SimdLevel::kAvx2, SimdLevel::kAvx512}) {
    if (static_cast<int>(l) <= static_cast<int>(best_simd_level())) out.push_back(l);
  }
  return out;
}

class VecDot : public ::testing::TestWithParam<GgmlType> {};

TEST_P(VecDot, ScalarMatchesDequantizedDoubleReference) {
  LevelGuard guard;
  for (int64_t n : lengths_for(GetParam())) {
    const Problem p = make_problem(GetParam(), n, 3, static_cast<uint32_t>(n) * 31u + 1u);
    const auto got = dots_at(p, SimdLevel::kScalar);
    for (int64_t r = 0; r < p.rows; ++r) {
      EXPECT_NEAR(got[r], p.ref[r], kRelTol * p.mag[r]) << "n=" << n << " row " << r;
      EXPECT_GT(p.mag[r], 0.0);
    }
  }
}

TEST_P(VecDot, SimdMatchesScalar) {
  LevelGuard guard;
  if (simd_levels().empty()) GTEST_SKIP() << "no AVX2 on this CPU/OS: scalar only";
  for (int64_t n : lengths_for(GetParam())) {
    const Problem p = make_problem(GetParam(), n, 5, static_cast<uint32_t>(n) + 17u);
    const auto want = dots_at(p, SimdLevel::kScalar);
    for (SimdLevel l : simd_levels()) {
      const auto got = dots_at(p, l);
      for (int64_t r = 0; r < p.rows; ++r) {
        EXPECT_NEAR(got[r], want[r], kRelTol * p.mag[r])
            << simd_level_name(l) << " n=" << n << " row " << r;
      }
    }
  }
}

TEST_P(VecDot, MatvecAndMatmulEqualVecDotAtEveryLevel) {
  LevelGuard guard;
  const GgmlType t = GetParam();
  // 544 = 17 blocks of 32: odd (pair kernels' last block) and 4 groups + 1 (Q4_0 x4 kernel).
  const int64_t n = type_traits(t)->block_size == 1 ? 264 : type_traits(t)->block_size == 32 ? 544 : 512;
  const int64_t rows = 11;  // not a multiple of the 2/4-row unrolls: tails run too
  const Problem p = make_problem(t, n, rows, 99);
  const size_t rb = row_bytes(t, n);
  std::vector<SimdLevel> levels = simd_levels();
  levels.insert(levels.begin(), SimdLevel::kScalar);
  for (SimdLevel l : levels) {
    const auto want = dots_at(p, l);
    std::vector<float> out(static_cast<size_t>(rows - 2), -1.0f);
    matvec_rows(t, p.w.data(), rb, n, 1, rows - 1, p.act.data(), out.data());
    for (int64_t r = 1; r < rows - 1; ++r) {
      EXPECT_EQ(out[r - 1], want[r]) << simd_level_name(l) << " row " << r;
    }
    // 5-7 tokens (every tail after the 4-token groups of the K-quant kernels and the
    // 3-token groups of the legacy ones) and 100 (more than one 96-token pass of the Q4_0 /
    // Q4_K kernels): distinct activations, output stride rows + 3.
    for (const int64_t ntok : {5, 6, 7, 100}) {
      const size_t ab = p.act.size(), os = static_cast<size_t>(rows + 3);
      std::vector<uint8_t> acts;
      std::vector<std::vector<float>> want_tok;
      std::mt19937 rng(1234);
      for (int64_t tok = 0; tok < ntok; ++tok) {
        const auto x = random_activation(n, rng);
        std::vector<uint8_t> a(ab);
        quantize_activation(t, x.data(), a.data(), n);
        acts.insert(acts.end(), a.begin(), a.end());
        std::vector<float> wt;
        for (int64_t r = 0; r < rows; ++r)
          wt.push_back(vec_dot(t, n, p.w.data() + rb * r, a.data()));
        want_tok.push_back(wt);
      }
      std::vector<float> mm(ntok * os, -1.0f);
      matmul_rows(t, p.w.data(), rb, n, 0, rows, acts.data(), ab, ntok, mm.data(), os);
      for (int64_t k = 0; k < ntok; ++k) {
        for (int64_t r = 0; r < rows; ++r) {
          EXPECT_EQ(mm[k * os + r], want_tok[k][r])
              << simd_level_name(l) << " token " << k << " row " << r;
        }
      }
      EXPECT_EQ(mm[rows], -1.0f);  // stride gap untouched
    }
  }
}

// Weights straight from a file mapping may sit at any offset (GGUF aligns tensors to 32 bytes
// by default, but alignment is a file setting); kernels that pick aligned loads when they can
// must give exactly the same results at every other offset.
TEST_P(VecDot, EveryAlignmentGivesTheSameResults) {
  LevelGuard guard;
  const GgmlType t = GetParam();
  const int64_t n = type_traits(t)->block_size == 1 ? 264 : type_traits(t)->block_size == 32 ? 544 : 512;
  const int64_t rows = 6;
  const Problem p = make_problem(t, n, rows, 7);
  const size_t rb = row_bytes(t, n);
  std::vector<SimdLevel> levels = simd_levels();
  levels.insert(levels.begin(), SimdLevel::kScalar);
  for (SimdLevel l : levels) {
    set_simd_level(l);
    std::vector<float> want(static_cast<size_t>(rows));
    matvec_rows(t, p.w.data(), rb, n, 0, rows, p.act.data(), want.data());
    for (const size_t offset : {1u, 2u, 4u, 8u, 18u, 36u, 63u}) {
      std::vector<uint8_t> buf(p.w.size() + 128);
      uint8_t* base = buf.data() + (64 - reinterpret_cast<uintptr_t>(buf.data()) % 64) + offset;
      std::memcpy(base, p.w.data(), p.w.size());
      std::vector<float> got(static_cast<size_t>(rows), -1.0f);
      matvec_rows(t, base, rb, n, 0, rows, p.act.data(), got.data());
      for (int64_t r = 0; r < rows; ++r) {
        EXPECT_EQ(got[r], want[r]) << simd_level_name(l) << " offset " << offset << " row " << r;
        EXPECT_EQ(vec_dot(t, n, base + rb * r, p.act.data()), want[r])
            << simd_level_name(l) << " vec_dot, offset " << offset << " row " << r;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, VecDot, ::testing::ValuesIn(kTypes),
                         [](const auto& tp) { return std::string(type_name(tp.param)); });

TEST(VecDotDispatch, EveryLevelHasItsOwnKernels) {
  // Each ISA level registers its own kernel for every type (no silent fallback), and the
  // AVX-512 level without VNNI is a third, distinct set for the 32-element formats.
  const auto& scalar = kern::kernel_table(SimdLevel::kScalar);
  const auto& avx2 = kern::kernel_table(SimdLevel::kAvx2);
  const auto& avx512 = kern::kernel_table(SimdLevel::kAvx512);
  for (GgmlType t : kTypes) {
    const int i = kern::idx(t);
    ASSERT_NE(scalar.vec_dot[i], nullptr) << type_name(t);
    EXPECT_NE(avx2.vec_dot[i], scalar.vec_dot[i]) << type_name(t);
    EXPECT_NE(avx512.vec_dot[i], avx2.vec_dot[i]) << type_name(t);
    EXPECT_NE(avx512.matvec[i], nullptr) << type_name(t);
  }
}

TEST(VecDotDispatch, Avx512WithoutVnniMatchesScalar) {
  if (best_simd_level() < SimdLevel::kAvx512) GTEST_SKIP() << "no AVX-512 on this CPU/OS";
  if (!cpu_features().avx512vnni) GTEST_SKIP() << "no VNNI: the default path is already non-VNNI";
  LevelGuard guard;
  struct VnniOff {
    VnniOff() { kern::set_vnni_allowed_for_testing(false); }
    ~VnniOff() { kern::set_vnni_allowed_for_testing(true); }
  } off;
  for (GgmlType t :
       {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0}) {
    const Problem p = make_problem(t, 1056, 6, 5);  // 33 blocks: odd count, scalar tail
    const auto want = dots_at(p, SimdLevel::kScalar);
    const auto got = dots_at(p, SimdLevel::kAvx512);
    for (int64_t r = 0; r < p.rows; ++r) {
      EXPECT_NEAR(got[r], want[r], kRelTol * p.mag[r]) << type_name(t) << " row " << r;
    }
    // The prefill tiles without VNNI: every (row, token) exactly the non-VNNI vec_dot.
    set_simd_level(SimdLevel::kAvx512);
    const int64_t n = 1056, ntok = 5;
    const size_t rb = row_bytes(t, n), ab = p.act.size();
    std::vector<uint8_t> acts;
    std::mt19937 rng(77);
    for (int64_t k = 0; k < ntok; ++k) {
      const auto x = random_activation(n, rng);
      std::vector<uint8_t> a(ab);
      quantize_activation(t, x.data(), a.data(), n);
      acts.insert(acts.end(), a.begin(), a.end());
    }
    std::vector<float> mm(static_cast<size_t>(ntok * p.rows));
    matmul_rows(t, p.w.data(), rb, n, 0, p.rows, acts.data(), ab, ntok, mm.data(),
                static_cast<size_t>(p.rows));
    for (int64_t k = 0; k < ntok; ++k) {
      for (int64_t r = 0; r < p.rows; ++r) {
        EXPECT_EQ(mm[static_cast<size_t>(k * p.rows + r)],
                  vec_dot(t, n, p.w.data() + rb * r, acts.data() + ab * k))
            << type_name(t) << " token " << k << " row " << r;
      }
    }
  }
}

TEST(VecDotDeathTest, UnsupportedTypeOrShapeIsAnInvariantFailure) {
  // The loader rejects these with an Error first; reaching the kernel with one is a bug and
  // must stop with a message, not read out of bounds.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::vector<uint8_t> buf(1024);
  EXPECT_DEATH(vec_dot(GgmlType::IQ2_XXS, 256, buf.data(), buf.data()), "no dot-product kernel");
  EXPECT_DEATH(vec_dot(GgmlType::Q4_0, 48, buf.data(), buf.data()), "multiple of the block size");
}

TEST(VecDotKnown, Q8_0HandComputed) {
  // One block: weights q = 0..31 with d = 0.5; activation 1.0 everywhere -> d_a = 1/127,
  // q_a = 127: dot = 0.5 * (1/127) * 127 * sum(0..31) = 248 (within fp16 rounding of d_a).
  LevelGuard guard;
  BlockQ8_0 w{};
  w.d = fp32_to_fp16(0.5f);
  for (int j = 0; j < 32; ++j) w.qs[j] = static_cast<int8_t>(j);
  std::vector<float> x(32, 1.0f);
  BlockQ8_0 a{};
  std::vector<SimdLevel> levels = simd_levels();
  levels.insert(levels.begin(), SimdLevel::kScalar);
  for (SimdLevel l : levels) {
    set_simd_level(l);
    quantize_activation(GgmlType::Q8_0, x.data(), &a, 32);
    EXPECT_NEAR(vec_dot(GgmlType::Q8_0, 32, &w, &a), 248.0f, 248.0f * 1e-3f) << simd_level_name(l);
  }
}

}  // namespace
}  // namespace moe
