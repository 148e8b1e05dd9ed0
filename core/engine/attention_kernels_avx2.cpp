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

// The k / v rows of one KV head are hd values out of every n_kv-wide cache row: a strided walk
// (1 KiB apart at n_kv 256) that the experts' weight stream has evicted from the caches since
// the last token, so each row waits a DRAM latency. Prefetching kAhead rows ahead keeps several
// in flight (mixtral-mini, ~144 positions: scores of 4 heads 5.4 -> 4.1 us, mix 3.7 -> 3.1 us;
// 16 rows ahead was no better).
constexpr int kAhead = 8;
template <class T>
inline void prefetch_row(const T* row, int hd) {
  const char* c = reinterpret_cast<const char*>(row);
  for (size_t off = 0; off < static_cast<size_t>(hd) * sizeof(T); off += 64) {
    _mm_prefetch(c + off, _MM_HINT_T0);
  }
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

// 4 heads x 2 positions: the 8 dot products of dot_row side by side, and their 8 horizontal
// sums done together by shuffles that add exactly the lanes hsum adds, in the same pairs
// (lo + hi half, then lanes 0+2 and 1+3, then those two): bit-identical to dot_row, without
// the ~6-instruction reduction per (head, position).
template <class T>
void scores4x2(const float* q, const T* k0, const T* k1, int hd, float scale, float* s,
               size_t s_stride) {
  __m256 a0[8], a1[8];  // index 2h + j: head h, position j
  for (auto& a : a0) a = _mm256_setzero_ps();
  for (auto& a : a1) a = _mm256_setzero_ps();
  for (int i = 0; i < hd; i += 16) {
    const __m256 k00 = load8(k0 + i), k01 = load8(k0 + i + 8);
    const __m256 k10 = load8(k1 + i), k11 = load8(k1 + i + 8);
    for (int h = 0; h < 4; ++h) {
      const float* qh = q + static_cast<size_t>(h) * hd + i;
      const __m256 q0 = _mm256_loadu_ps(qh), q1 = _mm256_loadu_ps(qh + 8);
      a0[2 * h] = _mm256_fmadd_ps(q0, k00, a0[2 * h]);
      a1[2 * h] = _mm256_fmadd_ps(q1, k01, a1[2 * h]);
      a0[2 * h + 1] = _mm256_fmadd_ps(q0, k10, a0[2 * h + 1]);
      a1[2 * h + 1] = _mm256_fmadd_ps(q1, k11, a1[2 * h + 1]);
    }
  }
  __m256 x[8];
  for (int v = 0; v < 8; ++v) x[v] = _mm256_add_ps(a0[v], a1[v]);
  // Step 1 (pairs v, v+1): [lo(x_v) + hi(x_v) | lo(x_v+1) + hi(x_v+1)].
  __m256 y[4];
  for (int v = 0; v < 4; ++v) {
    y[v] = _mm256_add_ps(_mm256_permute2f128_ps(x[2 * v], x[2 * v + 1], 0x20),
                         _mm256_permute2f128_ps(x[2 * v], x[2 * v + 1], 0x31));
  }
  // Step 2: per 128-bit half, [s0 + s2, s1 + s3] of two sources.
  const __m256 z0 = _mm256_add_ps(_mm256_shuffle_ps(y[0], y[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm256_shuffle_ps(y[0], y[1], _MM_SHUFFLE(3, 2, 3, 2)));
  const __m256 z1 = _mm256_add_ps(_mm256_shuffle_ps(y[2], y[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm256_shuffle_ps(y[2], y[3], _MM_SHUFFLE(3, 2, 3, 2)));
  // Step 3: (s0 + s2) + (s1 + s3). Lanes: heads 0-3 at position 0, then at position 1.
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
  int p = 0;
  if (g == 4 && hd % 16 == 0) {
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

// G heads (G <= 4) x 16 output lanes in 2G registers across all positions, one column slice
// of 16 at a time: the v rows of the slice are re-read from L1/L2 per slice instead of each
// head's output row being loaded and stored once per position (which bound the generic loop
// on L1 stores). Same fma sequence per output element as the generic loop: identical sums.
template <int G, class T>
void mix_heads(const float* w, size_t w_stride, const T* v, size_t stride, int n_pos, int hd,
               float* o) {
  for (int c = 0; c < hd; c += 16) {
    __m256 acc[G][2];
    for (int h = 0; h < G; ++h) acc[h][0] = acc[h][1] = _mm256_setzero_ps();
    for (int p = 0; p < n_pos; ++p) {
      const T* vp = v + static_cast<size_t>(p) * stride + c;
      if (c == 0) prefetch_row(vp + kAhead * stride, hd);  // later slices hit L1/L2
      const __m256 v0 = load8(vp), v1 = load8(vp + 8);
      for (int h = 0; h < G; ++h) {
        const __m256 wp = _mm256_set1_ps(w[static_cast<size_t>(h) * w_stride + p]);
        acc[h][0] = _mm256_fmadd_ps(wp, v0, acc[h][0]);
        acc[h][1] = _mm256_fmadd_ps(wp, v1, acc[h][1]);
      }
    }
    for (int h = 0; h < G; ++h) {
      _mm256_storeu_ps(o + static_cast<size_t>(h) * hd + c, acc[h][0]);
      _mm256_storeu_ps(o + static_cast<size_t>(h) * hd + c + 8, acc[h][1]);
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
        prefetch_row(vp + kAhead * stride, 64);
        const __m256 wp = _mm256_set1_ps(w[p]);
        for (int j = 0; j < 8; ++j) acc[j] = _mm256_fmadd_ps(wp, load8(vp + 8 * j), acc[j]);
      }
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(o + c + 8 * j, acc[j]);
    }
    return;
  }
  if (hd % 16 == 0 && g >= 2 && g <= 4) {
    if (g == 2) mix_heads<2>(w, w_stride, v, stride, n_pos, hd, o);
    if (g == 3) mix_heads<3>(w, w_stride, v, stride, n_pos, hd, o);
    if (g == 4) mix_heads<4>(w, w_stride, v, stride, n_pos, hd, o);
    return;
  }
  for (size_t i = 0; i < static_cast<size_t>(g) * hd; ++i) o[i] = 0;
  const int hd8 = hd - hd % 8;
  for (int p = 0; p < n_pos; ++p) {
    const T* vp = v + static_cast<size_t>(p) * stride;
    prefetch_row(vp + kAhead * stride, hd);
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

/// F16C conversion, 8 at a time (round to nearest even, as fp32_to_fp16).
void to_f16_f16c(const float* src, uint16_t* dst, int n) {
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) dst[i] = static_cast<uint16_t>(_cvtss_sh(src[i], _MM_FROUND_TO_NEAREST_INT));
}

const Kernels& avx2_kernels() {
  static const Kernels k{{scores<float>, mix<float>}, {scores<uint16_t>, mix<uint16_t>},
                         to_f16_f16c};
  return k;
}

}  // namespace moe::attn
