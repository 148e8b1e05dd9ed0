// AVX-512 attention loops (compiled with the AVX-512 flags; only called after the run-time
// check in attention_kernels.cpp). Same structure as the AVX2 file with 16 lanes per register,
// which halves the instructions of the KV scan of a decode step (its scores and mix run from
// L1/L2 once the rows arrive and were about half of its time). Head sizes that are not a
// multiple of 32 use the AVX2 kernels.
// GCC 12's AVX-512 intrinsics trip -Wuninitialized inside their own headers once inlined (GCC
// PR 105593, as in core/quant/simd_avx2.h).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "core/engine/attention_kernels.h"

namespace moe::attn {
namespace {

inline __m512 load16(const float* p) {
  return _mm512_loadu_ps(p);
}
inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// Same distance as the AVX2 kernels (rows of one KV head are n_kv_dim values apart).
constexpr int kAhead = 8;
template <class T>
inline void prefetch_row(const T* row, int hd) {
  const char* c = reinterpret_cast<const char*>(row);
  for (size_t off = 0; off < static_cast<size_t>(hd) * sizeof(T); off += 64) {
    _mm_prefetch(c + off, _MM_HINT_T0);
  }
}

/// 16 lanes -> 8 (lane i + lane i + 8): the first step of every horizontal sum here.
inline __m256 fold(__m512 v) {
  return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
}

/// Horizontal sum of 8 lanes in the order the 4x2 network below uses for each of its sums.
inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <class T>
float dot_row(const float* q, const T* kp, int hd) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (int i = 0; i < hd; i += 32) {
    acc0 = _mm512_fmadd_ps(load16(q + i), load16(kp + i), acc0);
    acc1 = _mm512_fmadd_ps(load16(q + i + 16), load16(kp + i + 16), acc1);
  }
  return hsum8(fold(_mm512_add_ps(acc0, acc1)));
}

// 4 heads x 2 positions: the 8 dot products of dot_row side by side; their 8 horizontal sums
// are folded to 8 lanes each and then reduced together by the shuffle network of the AVX2
// kernel, which adds exactly the lanes hsum8 adds in the same pairs: bit-identical to dot_row.
template <class T>
void scores4x2(const float* q, const T* k0, const T* k1, int hd, float scale, float* s,
               size_t s_stride) {
  __m512 a0[8], a1[8];  // index 2h + j: head h, position j
  for (auto& a : a0) a = _mm512_setzero_ps();
  for (auto& a : a1) a = _mm512_setzero_ps();
  for (int i = 0; i < hd; i += 32) {
    const __m512 k00 = load16(k0 + i), k01 = load16(k0 + i + 16);
    const __m512 k10 = load16(k1 + i), k11 = load16(k1 + i + 16);
    for (int h = 0; h < 4; ++h) {
      const float* qh = q + static_cast<size_t>(h) * hd + i;
      const __m512 q0 = load16(qh), q1 = load16(qh + 16);
      a0[2 * h] = _mm512_fmadd_ps(q0, k00, a0[2 * h]);
      a1[2 * h] = _mm512_fmadd_ps(q1, k01, a1[2 * h]);
      a0[2 * h + 1] = _mm512_fmadd_ps(q0, k10, a0[2 * h + 1]);
      a1[2 * h + 1] = _mm512_fmadd_ps(q1, k11, a1[2 * h + 1]);
    }
  }
  __m256 x[8];
  for (int v = 0; v < 8; ++v) x[v] = fold(_mm512_add_ps(a0[v], a1[v]));
  __m256 y[4];
  for (int v = 0; v < 4; ++v) {
    y[v] = _mm256_add_ps(_mm256_permute2f128_ps(x[2 * v], x[2 * v + 1], 0x20),
                         _mm256_permute2f128_ps(x[2 * v], x[2 * v + 1], 0x31));
  }
  const __m256 z0 = _mm256_add_ps(_mm256_shuffle_ps(y[0], y[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm256_shuffle_ps(y[0], y[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 z1 = _mm256_add_ps(_mm256_shuffle_ps(y[2], y[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm256_shuffle_ps(y[2], y[3], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 r = _mm256_mul_ps(_mm256_add_ps(_mm256_shuffle_ps(z0, z1, _MM_SHUFFLE(2, 0, 2, 0)),
                                               _mm256_shuffle_ps(z0, z1, _MM_SHUFFLE(3, 1, 3, 1))),
                                 _mm256_set1_ps(scale));
  alignas(32) float o[8];
  _mm256_store_ps(o, r);
  for (int h = 0; h < 4; ++h) {
    s[static_cast<size_t>(h) * s_stride] = o[h];
    s[static_cast<size_t>(h) * s_stride + 1] = o[4 + h];
  }
}

template <class T>
void scores(const float* q, int g, const T* k, size_t stride, int n_pos, int hd, float scale,
            float* s, size_t s_stride) {
  if (hd % 32 != 0) {
    const Kernels& k2 = avx2_kernels();
    if constexpr (sizeof(T) == 4) {
      k2.f32.scores(q, g, k, stride, n_pos, hd, scale, s, s_stride);
    } else {
      k2.f16.scores(q, g, k, stride, n_pos, hd, scale, s, s_stride);
    }
    return;
  }
  int p = 0;
  if (g == 4) {
    for (; p + 2 <= n_pos; p += 2) {
      const T* kp = k + static_cast<size_t>(p) * stride;
      prefetch_row(kp + kAhead * stride, hd);
      prefetch_row(kp + (kAhead + 1) * stride, hd);
      scores4x2(q, kp, kp + stride, hd, scale, s + p, s_stride);
    }
  }
  for (; p < n_pos; ++p) {
    const T* kp = k + static_cast<size_t>(p) * stride;
    prefetch_row(kp + kAhead * stride, hd);
    for (int h = 0; h < g; ++h) {
      s[static_cast<size_t>(h) * s_stride + p] =
          dot_row(q + static_cast<size_t>(h) * hd, kp, hd) * scale;
    }
  }
}

// G heads x 32 output lanes in 2G registers across all positions, one column slice at a time
// (as the AVX2 kernel with 16): per output element the same fma sequence over the positions as
// every other mix path, so the results are identical to them.
template <int G, class T>
void mix_heads(const float* w, size_t w_stride, const T* v, size_t stride, int n_pos, int hd,
               float* o) {
  for (int c = 0; c < hd; c += 32) {
    __m512 acc[G][2];
    for (int h = 0; h < G; ++h) acc[h][0] = acc[h][1] = _mm512_setzero_ps();
    for (int p = 0; p < n_pos; ++p) {
      const T* vp = v + static_cast<size_t>(p) * stride + c;
      if (c == 0) prefetch_row(vp + kAhead * stride, hd);  // later slices hit L1/L2
      const __m512 v0 = load16(vp), v1 = load16(vp + 16);
      for (int h = 0; h < G; ++h) {
        const __m512 wp = _mm512_set1_ps(w[static_cast<size_t>(h) * w_stride + p]);
        acc[h][0] = _mm512_fmadd_ps(wp, v0, acc[h][0]);
        acc[h][1] = _mm512_fmadd_ps(wp, v1, acc[h][1]);
      }
    }
    for (int h = 0; h < G; ++h) {
      _mm512_storeu_ps(o + static_cast<size_t>(h) * hd + c, acc[h][0]);
      _mm512_storeu_ps(o + static_cast<size_t>(h) * hd + c + 16, acc[h][1]);
    }
  }
}

template <class T>
void mix(const float* w, size_t w_stride, int g, const T* v, size_t stride, int n_pos, int hd,
         float* o) {
  if (hd % 32 == 0 && g >= 1 && g <= 4) {
    if (g == 1) mix_heads<1>(w, w_stride, v, stride, n_pos, hd, o);
    if (g == 2) mix_heads<2>(w, w_stride, v, stride, n_pos, hd, o);
    if (g == 3) mix_heads<3>(w, w_stride, v, stride, n_pos, hd, o);
    if (g == 4) mix_heads<4>(w, w_stride, v, stride, n_pos, hd, o);
    return;
  }
  const Kernels& k2 = avx2_kernels();
  if constexpr (sizeof(T) == 4) {
    k2.f32.mix(w, w_stride, g, v, stride, n_pos, hd, o);
  } else {
    k2.f16.mix(w, w_stride, g, v, stride, n_pos, hd, o);
  }
}

}  // namespace

const Kernels& avx512_kernels() {
  static const Kernels k{{scores<float>, mix<float>}, {scores<uint16_t>, mix<uint16_t>},
                         avx2_kernels().to_f16};
  return k;
}

}  // namespace moe::attn
