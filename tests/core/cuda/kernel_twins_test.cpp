// The CPU twins of the CUDA kernels (core/cuda/kernels.h) against independent references: the
// mat-vec twin against dequantize_row · dequantized activation summed in double, and against
// the CPU backend's matvec_rows (scalar and the best SIMD level). These run on every machine;
// the CUDA kernels are then compared with these twins (cuda_kernels_parity_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/cuda/kernels.h"
#include "core/quant/cpu_features.h"
#include "tests/core/cuda/cuda_test_support.h"

namespace moe {
namespace {

using cuda_test::matvec_sizes;
using cuda_test::matvec_types;

// dot in double of the dequantized row and activation, and the sum of |w a| (error scale).
void reference_dot(GgmlType type, const uint8_t* row, const std::vector<uint8_t>& act, int64_t n,
                   double* dot, double* mag) {
  std::vector<float> w(static_cast<size_t>(n)), a(static_cast<size_t>(n));
  dequantize_row(type, row, w.data(), n);
  dequantize_row(vec_dot_type(type), act.data(), a.data(), n);
  *dot = 0;
  *mag = 0;
  for (int64_t i = 0; i < n; ++i) {
    *dot += static_cast<double>(w[static_cast<size_t>(i)]) * a[static_cast<size_t>(i)];
    *mag += std::fabs(static_cast<double>(w[static_cast<size_t>(i)]) * a[static_cast<size_t>(i)]);
  }
}

TEST(CudaTwins, MatvecMatchesTheDequantizedReferenceAndTheCpuKernels) {
  for (GgmlType type : matvec_types()) {
    for (const auto& sz : matvec_sizes()) {
      SCOPED_TRACE(std::string(type_name(type)) + " n " + std::to_string(sz.n) + " rows " +
                   std::to_string(sz.rows));
      const auto w = cuda_test::random_rows(type, sz.n, sz.rows, 11 + static_cast<uint64_t>(sz.n));
      const auto x = cuda_test::random_floats(static_cast<size_t>(sz.n), 5);
      const auto act = cuda_test::prepared_activation(type, x);
      const size_t rb = row_bytes(type, sz.n);
      std::vector<float> twin(static_cast<size_t>(sz.rows)), cpu(twin.size()), scalar(twin.size());
      cuda::twin::matvec(type, w.data(), rb, sz.n, sz.rows, act.data(), twin.data());
      matvec_rows(type, w.data(), rb, sz.n, 0, sz.rows, act.data(), cpu.data());
      set_simd_level(SimdLevel::kScalar);
      matvec_rows(type, w.data(), rb, sz.n, 0, sz.rows, act.data(), scalar.data());
      set_simd_level_auto();
      for (int64_t r = 0; r < sz.rows; ++r) {
        double ref = 0, mag = 0;
        reference_dot(type, w.data() + rb * static_cast<size_t>(r), act, sz.n, &ref, &mag);
        // Float sums of n / 32 chunk products: a few ulps of the magnitude sum.
        const double tol = 1e-5 * mag + 1e-9;
        const size_t i = static_cast<size_t>(r);
        EXPECT_NEAR(twin[i], ref, tol) << "row " << r;
        EXPECT_NEAR(twin[i], cpu[i], 2 * tol) << "row " << r;
        EXPECT_NEAR(twin[i], scalar[i], 2 * tol) << "row " << r;
        EXPECT_GT(mag, 0.0);  // the rows are not all zero: the comparison means something
      }
    }
  }
}

// The f16 tiles of the cuBLAS prefill: every element as ggml dequantizes it (dequantize_row,
// bit for bit) rounded to half.
TEST(CudaTwins, DequantF16IsTheCpuDequantizationRoundedToHalf) {
  for (GgmlType type : matvec_types()) {
    for (const auto& sz : matvec_sizes()) {
      SCOPED_TRACE(std::string(type_name(type)) + " n " + std::to_string(sz.n));
      const auto w = cuda_test::random_rows(type, sz.n, sz.rows, 29);
      const size_t rb = row_bytes(type, sz.n);
      std::vector<uint16_t> got(static_cast<size_t>(sz.n * sz.rows));
      cuda::twin::dequant_f16(type, w.data(), rb, sz.n, sz.rows, got.data());
      std::vector<float> row(static_cast<size_t>(sz.n));
      int mismatches = 0;
      for (int64_t r = 0; r < sz.rows; ++r) {
        dequantize_row(type, w.data() + rb * static_cast<size_t>(r), row.data(), sz.n);
        for (int64_t i = 0; i < sz.n; ++i) {
          mismatches +=
              got[static_cast<size_t>(r * sz.n + i)] != fp32_to_fp16(row[static_cast<size_t>(i)]);
        }
      }
      EXPECT_EQ(mismatches, 0);
    }
  }
}

TEST(CudaTwins, GatherAndScatterFollowTheRowIndices) {
  const std::vector<float> x{1, 2, 3, 4, 5, 6};  // 3 rows of 2
  const int32_t rows[2] = {2, 0};
  std::vector<uint16_t> g(4);
  cuda::twin::gather_f16(x.data(), rows, 2, 2, g.data());
  EXPECT_EQ(fp16_to_fp32(g[0]), 5.0f);
  EXPECT_EQ(fp16_to_fp32(g[3]), 2.0f);
  std::vector<float> out(6, 1.0f);
  const float y[4] = {1, 2, 3, 4}, w[2] = {0.5f, 2.0f};
  cuda::twin::scatter_add_scaled(out.data(), y, rows, w, 2, 2);
  EXPECT_EQ(out, (std::vector<float>{7, 9, 1, 1, 1.5f, 2}));
}

TEST(CudaTwins, HasMatvecNamesTheTypesWithKernels) {
  for (GgmlType t : matvec_types()) EXPECT_TRUE(cuda::has_matvec(t)) << type_name(t);
  for (GgmlType t : {GgmlType::F32, GgmlType::F16, GgmlType::Q5_K, GgmlType::Q2_K}) {
    EXPECT_FALSE(cuda::has_matvec(t)) << type_name(t);
  }
}

TEST(CudaTwins, RouterTopKTakesTheLargestWithTiesToTheLowerIndex) {
  const float logits[6] = {0.5f, 2.0f, -1.0f, 2.0f, 1.0f, 0.0f};
  int32_t ids[3] = {};
  float w[3] = {};
  cuda::twin::router_topk(logits, 6, 3, ids, w);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(ids[1], 3);
  EXPECT_EQ(ids[2], 4);
  const double z = 2 * std::exp(2.0) + std::exp(1.0);
  EXPECT_NEAR(w[0], std::exp(2.0) / z, 1e-6);
  EXPECT_NEAR(w[2], std::exp(1.0) / z, 1e-6);
}

}  // namespace
}  // namespace moe
