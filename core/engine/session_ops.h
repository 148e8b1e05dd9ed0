#pragma once
// Small per-row operations of the forward pass (RMSNorm, RoPE, softmax), plain loops the
// compiler vectorises. Shapes in the comments.
#include <cmath>
#include <cstdint>

#include "core/model/model.h"
#include "core/quant/quant.h"

namespace moe::ops {

/// out[n] = x / sqrt(mean(x²) + eps) * w   (RMSNorm; out may alias x)
inline void rms_norm(const float* x, const float* w, float eps, int n, float* out) {
  double ss = 0;
  for (int i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float scale = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
  for (int i = 0; i < n; ++i) out[i] = x[i] * scale * w[i];
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

/// In-place softmax of x[n].
inline void softmax(float* x, int n) {
  float mx = x[0];
  for (int i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  float sum = 0;
  for (int i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace moe::ops
