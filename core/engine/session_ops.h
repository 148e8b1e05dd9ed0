#pragma once
// Small per-row operations of the forward pass (RMSNorm, RoPE, softmax), plain loops the
// compiler vectorises. Shapes in the comments.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

#include "core/model/model.h"
#include "core/quant/quant.h"

namespace moe::ops {

/// out[n] = x / sqrt(mean(x²) + eps) * w   (RMSNorm; out may alias x)
inline void rms_norm(const float* x, const float* w, float eps, int n, float* out) {
  // Eight partial sums in double: vectorised, and no 4-cycle add chain over n elements
  // (one chain was ~1 us per call at n_embd 1024, twice per layer of a decode step).
  double part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) part[j] += static_cast<double>(x[i + j]) * x[i + j];
  }
  double ss = 0;
  for (; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  for (int j = 0; j < 8; ++j) ss += part[j];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
  for (int k = 0; k < n; ++k) out[k] = x[k] * scale * w[k];
}

/// dst[n_in] = row r of m, dequantized.
inline void dequantize_matrix_row(const MatrixView& m, int64_t r, float* dst) {
  dequantize_row(m.type, m.row(r), dst, m.n_in);
}

/// cos_sin[2i], cos_sin[2i+1] = cos, sin of pos * scale * inv_freq[i] for i < n_rot / 2 (the
/// RoPE angles of one position: the same for every layer and head).
inline void rope_angles(const float* inv_freq, float freq_scale, int pos, int n_rot,
                        float* cos_sin /* [n_rot] */) {
  for (int i = 0; i < n_rot / 2; ++i) {
    const double angle = static_cast<double>(pos) * freq_scale * inv_freq[i];
    cos_sin[2 * i] = static_cast<float>(std::cos(angle));
    cos_sin[2 * i + 1] = static_cast<float>(std::sin(angle));
  }
}

/// Rotates the first n_rot dims of each of n_heads heads (head_dim apart) by the angles of
/// rope_angles, interleaved pairs (x[2i], x[2i+1]) as GGML_ROPE_TYPE_NORM.
inline void rope_apply(float* x, int n_heads, int head_dim, int n_rot, const float* cos_sin) {
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * head_dim;
    for (int i = 0; i < n_rot / 2; ++i) {
      const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
      const float a = v[2 * i], b = v[2 * i + 1];
      v[2 * i] = a * c - b * s;
      v[2 * i + 1] = a * s + b * c;
    }
  }
}

/// rope_angles then rope_apply: angle = pos * scale * inv_freq[i].
inline void rope(float* x, int n_heads, int head_dim, int n_rot, const float* inv_freq,
                 float freq_scale, int pos, float* cos_sin /* [n_rot] scratch */) {
  rope_angles(inv_freq, freq_scale, pos, n_rot, cos_sin);
  rope_apply(x, n_heads, head_dim, n_rot, cos_sin);
}

/// e^x in float, written so that loops over it vectorise (no libm call, no branch, no float to
/// int conversion): Cephes' expf (round x / ln 2 to n, a degree-6 polynomial on the remainder,
/// scale by 2^n through the exponent bits). Relative error < 1e-7 against std::exp over
/// [-87, 88] (8.3e-8 measured: under one float ulp); x below -87.3 gives 0, x above 88 gives
/// e^88 (finite), NaN gives NaN. moe_engine is compiled with -fno-trapping-math so that GCC
/// if-converts the clamps and vectorises loops over this (we never enable FP traps). The
/// attention softmax and the experts' SiLU spent ~3 ns per element in glibc's scalar expf.
inline float exp_fast(float x) {
  const float xc = std::min(std::max(x, -87.3f), 88.0f);
  // Round x / ln 2 to the nearest integer by adding 1.5 * 2^23: n sits in the low mantissa bits.
  const float big = xc * 1.44269504088896341f + 12582912.0f;
  const float n = big - 12582912.0f;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const uint32_t ni = std::bit_cast<uint32_t>(big) - 0x4B400000u;  // n, two's complement
  const float scale = std::bit_cast<float>((ni + 127u) << 23);
  const float e = p * scale;
  return x < -87.3f ? 0.0f : e;
}

/// In-place softmax of x[n].
inline void softmax(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = std::max(mx, x[i]);
  for (int i = 0; i < n; ++i) x[i] = exp_fast(x[i] - mx);
  // Eight partial sums (vectorisable without reassociating a single running sum).
  float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) part[j] += x[i + j];
  }
  float sum = 0;
  for (; i < n; ++i) sum += x[i];
  for (int j = 0; j < 8; ++j) sum += part[j];
  const float inv = 1.0f / sum;
  for (int k = 0; k < n; ++k) x[k] *= inv;
}

/// x * sigmoid(x), the experts' gate activation.
inline float silu(float x) {
  return x / (1.0f + exp_fast(-x));
}

}  // namespace moe::ops
