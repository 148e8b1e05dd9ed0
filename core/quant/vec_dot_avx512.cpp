// AVX-512 (F + BW + VL + DQ) kernels for the float types and the 32-element formats, R rows
// at a time. The integer dot of the legacy formats uses AVX-512 VNNI (vpdpbusd) when the CPU
// has it: the same kernel source (vec_dot_avx512_legacy.inc) is compiled twice, the second
// time with the VNNI target enabled, and registration picks one at run time. ZMM state is
// already checked by the AVX-512 level itself (XCR0 bits 5-7), which VNNI shares.
#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/quant/kernel_adapters.h"
#include "core/quant/simd_avx2.h"

namespace moe::kern {
namespace {

// Last block of an odd block count: one call into the scalar reference.
template <class Block>
float scalar_dot(const uint8_t* x, const BlockQ8_0* y) {
  GgmlType t = GgmlType::Q8_0;
  if constexpr (std::is_same_v<Block, BlockQ4_0>) t = GgmlType::Q4_0;
  if constexpr (std::is_same_v<Block, BlockQ4_1>) t = GgmlType::Q4_1;
  if constexpr (std::is_same_v<Block, BlockQ5_0>) t = GgmlType::Q5_0;
  if constexpr (std::is_same_v<Block, BlockQ5_1>) t = GgmlType::Q5_1;
  return kernel_table(SimdLevel::kScalar).vec_dot[idx(t)](32, x, y);
}

// ---- float weights: 16 per register ------------------------------------------------------

template <GgmlType T>
inline __m512 load_w16(const uint8_t* p) {
  if constexpr (T == GgmlType::F32) {
    return _mm512_loadu_ps(p);
  } else if constexpr (T == GgmlType::F16) {
    return _mm512_cvtph_ps(x86::load32(p));
  } else {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(x86::load32(p)), 16));
  }
}

template <GgmlType T>
struct KFloat512 {
  static constexpr size_t kElt = T == GgmlType::F32 ? 4 : 2;
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const float*>(act);
    __m512 acc[R][2];
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
      const __m512 y0 = _mm512_loadu_ps(y + i), y1 = _mm512_loadu_ps(y + i + 16);
      for (int r = 0; r < R; ++r) {
        const uint8_t* x = w + static_cast<size_t>(r) * stride + static_cast<size_t>(i) * kElt;
        x86::prefetch_block<32 * kElt>(x, R, stride);
        acc[r][0] = _mm512_fmadd_ps(load_w16<T>(x), y0, acc[r][0]);
        acc[r][1] = _mm512_fmadd_ps(load_w16<T>(x + 16 * kElt), y1, acc[r][1]);
      }
    }
    for (int r = 0; r < R; ++r) {
      float s = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][0], acc[r][1]));
      const uint8_t* x = w + static_cast<size_t>(r) * stride;
      for (int64_t j = i; j < n; ++j) {  // tail (n not a multiple of 32)
        s += x86::float_weight<T>(x, j) * y[j];
      }
      out[r] = s;
    }
  }
};

namespace plain {
#define MOE_VNNI 0
#include "core/quant/vec_dot_avx512_legacy.inc"
#undef MOE_VNNI
}  // namespace plain

#pragma GCC push_options
#pragma GCC target("avx512vnni")
namespace vnni {
#define MOE_VNNI 1
#include "core/quant/vec_dot_avx512_legacy.inc"
#undef MOE_VNNI
}  // namespace vnni
#pragma GCC pop_options

}  // namespace

void register_avx512(KernelTable& t) {
  x86::set_kernel<KFloat512<GgmlType::F32>, 4>(t, GgmlType::F32);
  x86::set_kernel<KFloat512<GgmlType::F16>, 4>(t, GgmlType::F16);
  x86::set_kernel<KFloat512<GgmlType::BF16>, 4>(t, GgmlType::BF16);
  if (cpu_features().avx512vnni && vnni_allowed()) {
    vnni::register_legacy(t);
  } else {
    plain::register_legacy(t);
  }
}

}  // namespace moe::kern
