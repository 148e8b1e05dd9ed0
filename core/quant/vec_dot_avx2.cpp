// AVX2 kernels for the float types (activation F32) and the 32-element legacy formats
// (activation Q8_0). Every kernel computes R rows at once so that a matvec loads and prepares
// each activation block once for R weight rows (the decode step is bandwidth bound: the
// weight stream must not wait on activation work).
//
// Legacy formats with unsigned codes u (Q4_0: u - 8, Q5_0: u - 16, Q4_1/Q5_1: d*u + m) use
// maddubs(u, a) directly and fold the offset through the activation block sum:
//   sum (u - c) a = sum u a - c * sum a,   sum (d u + m)(d_a a) = d d_a sum u a + m d_a sum a
// where sum a (per 4 lanes) is computed once per block and shared by the R rows.
#include "core/quant/kernel_adapters.h"
#include "core/quant/simd_avx2.h"

namespace moe::kern {
namespace {

using namespace x86;

// ---- float weights -----------------------------------------------------------------------

// Loads 8 weights as float. F32: plain, F16: F16C, BF16: bits << 16.
template <GgmlType T>
inline __m256 load_w8(const uint8_t* p) {
  if constexpr (T == GgmlType::F32) {
    return _mm256_loadu_ps(reinterpret_cast<const float*>(p));
  } else if constexpr (T == GgmlType::F16) {
    return _mm256_cvtph_ps(load16(p));
  } else {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load16(p)), 16));
  }
}

template <GgmlType T>
struct KFloat {
  static constexpr size_t kElt = T == GgmlType::F32 ? 4 : 2;
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const float*>(act);
    __m256 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
      const __m256 y0 = _mm256_loadu_ps(y + i), y1 = _mm256_loadu_ps(y + i + 8);
      for (int r = 0; r < R; ++r) {
        const uint8_t* x = w + static_cast<size_t>(r) * stride + static_cast<size_t>(i) * kElt;
        prefetch_block<16 * kElt>(x, R, stride);
        acc[r][0] = _mm256_fmadd_ps(load_w8<T>(x), y0, acc[r][0]);
        acc[r][1] = _mm256_fmadd_ps(load_w8<T>(x + 8 * kElt), y1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      float s = hsum(_mm256_add_ps(acc[r][0], acc[r][1]));
      const uint8_t* x = w + static_cast<size_t>(r) * stride;
      for (int64_t j = i; j < n; ++j) {  // tail (n not a multiple of 16)
        s += float_weight<T>(x, j) * y[j];
      }
      out[r] = s;
    }
  }
};

// ---- 32-element formats x Q8_0 -------------------------------------------------------------

// Q5_0 / Q5_1: u = nibble | (bit << 4), 0..31.
inline __m256i unpack_q5(const uint8_t* qs, const uint8_t* qh) {
  const __m256i hi = _mm256_and_si256(bytes_from_bits32(qh), _mm256_set1_epi8(0x10));
  return _mm256_or_si256(unpack_nibbles16(qs), hi);
}

// Unsigned quants u of one 32-element block, per format.
struct UnpackQ4 {
  template <class B>
  static __m256i unpack(const B* x) {
    return unpack_nibbles16(x->qs);
  }
};
struct UnpackQ5 {
  template <class B>
  static __m256i unpack(const B* x) {
    return unpack_q5(x->qs, x->qh);
  }
};

// Symmetric formats (Q4_0, Q5_0): x = d * (u - kOffset), so
// dot = d * dy * (Σ u·a - kOffset · Σ a).
template <class Block, class Unpack, int kOffset>
struct KSymmetric {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(act);
    const __m256i offset = _mm256_set1_epi8(kOffset);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; ++i) {
      const __m256i qy = load32(y[i].qs);
      const __m256i off = dot_u8s8(offset, qy);  // kOffset * sum a, per lane
      const float dy = f16(y[i].d);
      for (int r = 0; r < R; ++r) {
        const Block* x = row_block<Block>(w, stride, r, i);
        prefetch_block<sizeof(Block)>(x, R, stride);
        const __m256i p = _mm256_sub_epi32(dot_u8s8(Unpack::unpack(x), qy), off);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->d) * dy), _mm256_cvtepi32_ps(p), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

// Formats with a minimum (Q4_1, Q5_1): x = d * u + m, so dot = d * dy * Σ u·a + m * dy * Σ a
// (the activation block sum is computed here: Q8_0 activations serve every 32-element type).
template <class Block, class Unpack>
struct KWithMin {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(act);
    const __m256i ones = _mm256_set1_epi8(1);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / 32; ++i) {
      const __m256i qy = load32(y[i].qs);
      const __m256 ysum = _mm256_cvtepi32_ps(dot_u8s8(ones, qy));
      const float dy = f16(y[i].d);
      for (int r = 0; r < R; ++r) {
        const Block* x = row_block<Block>(w, stride, r, i);
        prefetch_block<sizeof(Block)>(x, R, stride);
        const __m256 p = _mm256_cvtepi32_ps(dot_u8s8(Unpack::unpack(x), qy));
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->d) * dy), p, acc[r]);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->m) * dy), ysum, acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

using KQ4_0 = KSymmetric<BlockQ4_0, UnpackQ4, 8>;
using KQ5_0 = KSymmetric<BlockQ5_0, UnpackQ5, 16>;
using KQ4_1 = KWithMin<BlockQ4_1, UnpackQ4>;
using KQ5_1 = KWithMin<BlockQ5_1, UnpackQ5>;

struct KQ8_0 {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(act);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK8_0; ++i) {
      const __m256i qy = load32(y[i].qs);
      const float dy = f16(y[i].d);
      for (int r = 0; r < R; ++r) {
        const BlockQ8_0* x = row_block<BlockQ8_0>(w, stride, r, i);
        prefetch_block<sizeof(BlockQ8_0)>(x, R, stride);
        const __m256i p = dot_s8s8(load32(x->qs), qy);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->d) * dy), _mm256_cvtepi32_ps(p), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

}  // namespace

void register_avx2(KernelTable& t) {
  set_kernel<KFloat<GgmlType::F32>, 4>(t, GgmlType::F32);
  set_kernel<KFloat<GgmlType::F16>, 4>(t, GgmlType::F16);
  set_kernel<KFloat<GgmlType::BF16>, 4>(t, GgmlType::BF16);
  set_kernel<KQ4_0, 4>(t, GgmlType::Q4_0);
  set_kernel<KQ4_1, 4>(t, GgmlType::Q4_1);
  set_kernel<KQ5_0, 4>(t, GgmlType::Q5_0);
  set_kernel<KQ5_1, 4>(t, GgmlType::Q5_1);
  set_kernel<KQ8_0, 4>(t, GgmlType::Q8_0);
}

}  // namespace moe::kern
