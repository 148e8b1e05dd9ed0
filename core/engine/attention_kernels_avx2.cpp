// AVX2 + F16C + FMA attention loops (compiled with -mavx2 -mfma -mf16c; only called after the
// run-time check in attention_kernels.cpp).
#include <immintrin.h>

#include "core/engine/attention_kernels.h"

namespace moe::attn {
namespace {

inline __m256 load8(const float* p) {
  return _mm256_loadu_ps(p);
}
inline __m256 load8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline float to_f32(float x) {
  return x;
}
inline float to_f32(uint16_t h) {
  return _cvtsh_ss(h);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <class T>
float dot_row(const float* q, const T* kp, int hd) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int i = 0;
  for (; i + 16 <= hd; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(kp + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load8(kp + i + 8), acc1);
  }
  for (; i + 8 <= hd; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(kp + i), acc0);
  float d = hsum(_mm256_add_ps(acc0, acc1));
  for (; i < hd; ++i) d += q[i] * to_f32(kp[i]);
  return d;
}

template <class T>
void scores(const float* q, int g, const T* k, size_t stride, int n_pos, int hd, float scale,
            float* s, size_t s_stride) {
  for (int p = 0; p < n_pos; ++p) {
    const T* kp = k + static_cast<size_t>(p) * stride;
    for (int h = 0; h < g; ++h) {
      s[static_cast<size_t>(h) * s_stride + p] =
          dot_row(q + static_cast<size_t>(h) * hd, kp, hd) * scale;
    }
  }
}

// o[h] = Σ_p w[h][p] v[p]. One head: 64 output lanes held in 8 registers across all positions.
// Several heads: each v row is converted once and accumulated into every head's row (in L1).
template <class T>
void mix(const float* w, size_t w_stride, int g, const T* v, size_t stride, int n_pos, int hd,
         float* o) {
  if (g == 1 && hd % 64 == 0) {
    for (int c = 0; c < hd; c += 64) {
      __m256 acc[8];
      for (auto& a : acc) a = _mm256_setzero_ps();
      for (int p = 0; p < n_pos; ++p) {
        const T* vp = v + static_cast<size_t>(p) * stride + c;
        const __m256 wp = _mm256_set1_ps(w[p]);
        for (int j = 0; j < 8; ++j) acc[j] = _mm256_fmadd_ps(wp, load8(vp + 8 * j), acc[j]);
      }
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(o + c + 8 * j, acc[j]);
    }
    return;
  }
  for (size_t i = 0; i < static_cast<size_t>(g) * hd; ++i) o[i] = 0;
  const int hd8 = hd - hd % 8;
  for (int p = 0; p < n_pos; ++p) {
    const T* vp = v + static_cast<size_t>(p) * stride;
    for (int h = 0; h < g; ++h) {
      const float wf = w[static_cast<size_t>(h) * w_stride + p];
      const __m256 wp = _mm256_set1_ps(wf);
      float* oh = o + static_cast<size_t>(h) * hd;
      for (int c = 0; c < hd8; c += 8) {
        _mm256_storeu_ps(oh + c, _mm256_fmadd_ps(wp, load8(vp + c), _mm256_loadu_ps(oh + c)));
      }
      for (int c = hd8; c < hd; ++c) oh[c] += wf * to_f32(vp[c]);
    }
  }
}

}  // namespace

const Kernels& avx2_kernels() {
  static const Kernels k{{scores<float>, mix<float>}, {scores<uint16_t>, mix<uint16_t>}};
  return k;
}

}  // namespace moe::attn
