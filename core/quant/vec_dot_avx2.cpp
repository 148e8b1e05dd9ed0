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

template <class Block>
inline const Block* row_block(const uint8_t* w, size_t stride, int r, int64_t i) {
  return reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * stride) + i;
}

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
        float wj;
        if constexpr (T == GgmlType::F32) {
          std::memcpy(&wj, x + 4 * j, 4);
        } else {
          uint16_t h;
          std::memcpy(&h, x + 2 * j, 2);
          wj = T == GgmlType::F16 ? f16(h) : bf16_bits_to_float(h);
        }
        s += wj * y[j];
      }
      out[r] = s;
    }
  }
};

// ---- 32-element formats x Q8_0 -------------------------------------------------------------

struct KQ4_0 {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(act);
    const __m256i eight = _mm256_set1_epi8(8);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK4_0; ++i) {
      const __m256i qy = load32(y[i].qs);
      const __m256i off = dot_u8s8(eight, qy);  // 8 * sum a, per lane
      const float dy = f16(y[i].d);
      for (int r = 0; r < R; ++r) {
        const BlockQ4_0* x = row_block<BlockQ4_0>(w, stride, r, i);
        prefetch_block<sizeof(BlockQ4_0)>(x, R, stride);
        const __m256i p = _mm256_sub_epi32(dot_u8s8(unpack_nibbles16(x->qs), qy), off);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->d) * dy), _mm256_cvtepi32_ps(p), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

struct KQ4_1 {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(act);
    const __m256i ones = _mm256_set1_epi8(1);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK4_1; ++i) {
      const __m256i qy = load32(y[i].qs);
      const __m256 ysum = _mm256_cvtepi32_ps(dot_u8s8(ones, qy));
      const float dy = f16(y[i].d);
      for (int r = 0; r < R; ++r) {
        const BlockQ4_1* x = row_block<BlockQ4_1>(w, stride, r, i);
        prefetch_block<sizeof(BlockQ4_1)>(x, R, stride);
        const __m256 p = _mm256_cvtepi32_ps(dot_u8s8(unpack_nibbles16(x->qs), qy));
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->d) * dy), p, acc[r]);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->m) * dy), ysum, acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

// Q5_0 / Q5_1: u = nibble | (bit << 4), 0..31.
inline __m256i unpack_q5(const uint8_t* qs, const uint8_t* qh) {
  const __m256i hi = _mm256_and_si256(bytes_from_bits32(qh), _mm256_set1_epi8(0x10));
  return _mm256_or_si256(unpack_nibbles16(qs), hi);
}

struct KQ5_0 {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(act);
    const __m256i sixteen = _mm256_set1_epi8(16);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK5_0; ++i) {
      const __m256i qy = load32(y[i].qs);
      const __m256i off = dot_u8s8(sixteen, qy);
      const float dy = f16(y[i].d);
      for (int r = 0; r < R; ++r) {
        const BlockQ5_0* x = row_block<BlockQ5_0>(w, stride, r, i);
        prefetch_block<sizeof(BlockQ5_0)>(x, R, stride);
        const __m256i p = _mm256_sub_epi32(dot_u8s8(unpack_q5(x->qs, x->qh), qy), off);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->d) * dy), _mm256_cvtepi32_ps(p), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

struct KQ5_1 {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_0*>(act);
    const __m256i ones = _mm256_set1_epi8(1);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK5_1; ++i) {
      const __m256i qy = load32(y[i].qs);
      const __m256 ysum = _mm256_cvtepi32_ps(dot_u8s8(ones, qy));
      const float dy = f16(y[i].d);
      for (int r = 0; r < R; ++r) {
        const BlockQ5_1* x = row_block<BlockQ5_1>(w, stride, r, i);
        prefetch_block<sizeof(BlockQ5_1)>(x, R, stride);
        const __m256 p = _mm256_cvtepi32_ps(dot_u8s8(unpack_q5(x->qs, x->qh), qy));
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->d) * dy), p, acc[r]);
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(f16(x->m) * dy), ysum, acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

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
