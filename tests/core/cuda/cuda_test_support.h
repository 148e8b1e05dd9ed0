#pragma once
// Shared by the CUDA tests: random quantized rows for the kernels, and the skip every GPU test
// starts with (no device, or a build without the CUDA backend: a clear reason, never a fail).
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "core/cuda/cuda_info.h"
#include "core/quant/quant.h"

namespace moe::cuda_test {

/// Skips the calling test (GTEST_SKIP returns from it) when no CUDA device can be used.
#define MOE_SKIP_WITHOUT_CUDA_DEVICE()                                         \
  do {                                                                         \
    const ::moe::CudaInventory inv_ = ::moe::cuda_inventory();                 \
    if (inv_.devices.empty()) GTEST_SKIP() << "no CUDA device: " << inv_.note; \
  } while (0)

/// Zero-mean gaussian values with a few outliers (as trained weights and activations have).
inline std::vector<float> random_floats(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = nd(rng);
  for (size_t i = 0; i < n; i += 97) v[i] *= 8.0f;
  return v;
}

/// `rows` rows of n random values quantized to `type` (row_bytes apart).
inline std::vector<uint8_t> random_rows(GgmlType type, int64_t n, int64_t rows, uint64_t seed) {
  const size_t rb = row_bytes(type, n);
  std::vector<uint8_t> out(rb * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<float> f =
        random_floats(static_cast<size_t>(n), seed + static_cast<uint64_t>(r), 0.05f);
    EXPECT_TRUE(quantize_row(type, f.data(), out.data() + rb * static_cast<size_t>(r), n));
  }
  return out;
}

inline std::vector<uint8_t> prepared_activation(GgmlType weight_type, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> act(row_bytes(vec_dot_type(weight_type), n));
  quantize_activation(weight_type, x.data(), act.data(), n);
  return act;
}

/// The sizes every parity test runs: (n, rows). n covers one K-quant block, a few, and
/// Mixtral's n_embd; rows cover a partial thread block and many blocks.
struct MatvecSize {
  int64_t n, rows;
};
inline const std::vector<MatvecSize>& matvec_sizes() {
  static const std::vector<MatvecSize> s{{256, 1}, {256, 7}, {1024, 33}, {4096, 64}, {14336, 5}};
  return s;
}

inline const std::vector<GgmlType>& matvec_types() {
  static const std::vector<GgmlType> t{GgmlType::Q4_0, GgmlType::Q8_0, GgmlType::Q4_K,
                                       GgmlType::Q6_K};
  return t;
}

}  // namespace moe::cuda_test
