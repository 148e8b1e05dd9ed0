// Reference quantizers for the 32-element block formats, as ggml's quantize_row_*_ref (and the
// gguf package's quants.quantize, which is bit-identical to them). Symmetric formats take
// d = (signed value of largest magnitude) / -2^(bits-1), so that value maps to the most negative
// level; "_1" formats take d = (max - min) / (2^bits - 1) and m = min. Inputs are expected to be
// finite (as in ggml; a NaN/inf input gives garbage levels, never a crash).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/quant/fp16_inline.h"
#include "core/quant/quant_ref.h"

namespace moe::ref {
namespace {

// The signed value with the largest magnitude (first one on ties), as ggml's loop finds it.
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* min, float* max) {
  *min = std::numeric_limits<float>::max();
  *max = -std::numeric_limits<float>::max();
  for (int j = 0; j < n; ++j) {
    if (x[j] < *min) *min = x[j];
    if (x[j] > *max) *max = x[j];
  }
}

// C's float -> int8_t conversion truncates toward zero; ggml relies on it with the +0.5 / +8.5
// offsets (values are >= 0 there, so this is floor(v + 0.5)).
inline int trunc_i8(float v) {
  return static_cast<int8_t>(v);
}

}  // namespace

void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t k) {
  constexpr int qk = kQK4_0;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i, x += qk) {
    const float d = signed_absmax(x, qk) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp16::from_fp32(d);
    for (int j = 0; j < qk / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[qk / 2 + j] * id;
      const int xi0 = std::min(15, trunc_i8(x0 + 8.5f));
      const int xi1 = std::min(15, trunc_i8(x1 + 8.5f));
      y[i].qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t k) {
  constexpr int qk = kQK4_1;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i, x += qk) {
    float min, max;
    min_max(x, qk, &min, &max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp16::from_fp32(d);
    y[i].m = fp16::from_fp32(min);
    for (int j = 0; j < qk / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[qk / 2 + j] - min) * id;
      const int xi0 = std::min(15, trunc_i8(x0 + 0.5f));
      const int xi1 = std::min(15, trunc_i8(x1 + 0.5f));
      y[i].qs[j] = static_cast<uint8_t>(xi0 | (xi1 << 4));
    }
  }
}

void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t k) {
  constexpr int qk = kQK5_0;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i, x += qk) {
    const float d = signed_absmax(x, qk) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp16::from_fp32(d);
    uint32_t qh = 0;
    for (int j = 0; j < qk / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[qk / 2 + j] * id;
      const uint32_t xi0 = static_cast<uint32_t>(std::min(31, trunc_i8(x0 + 16.5f)));
      const uint32_t xi1 = static_cast<uint32_t>(std::min(31, trunc_i8(x1 + 16.5f)));
      y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << j;  // 5th bit of element j -> bit j
      qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t k) {
  constexpr int qk = kQK5_1;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i, x += qk) {
    float min, max;
    min_max(x, qk, &min, &max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp16::from_fp32(d);
    y[i].m = fp16::from_fp32(min);
    uint32_t qh = 0;
    for (int j = 0; j < qk / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[qk / 2 + j] - min) * id;
      // ggml stores (uint8_t)(v + 0.5) unclamped; (max-min)*id + 0.5 stays below 32.
      const uint32_t xi0 = static_cast<uint32_t>(std::min(31, trunc_i8(x0 + 0.5f)));
      const uint32_t xi1 = static_cast<uint32_t>(std::min(31, trunc_i8(x1 + 0.5f)));
      y[i].qs[j] = static_cast<uint8_t>((xi0 & 0x0F) | ((xi1 & 0x0F) << 4));
      qh |= ((xi0 & 0x10u) >> 4) << j;
      qh |= ((xi1 & 0x10u) >> 4) << (j + qk / 2);
    }
    std::memcpy(y[i].qh, &qh, sizeof(qh));
  }
}

void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t k) {
  constexpr int qk = kQK8_0;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i, x += qk) {
    float amax = 0.0f;
    for (int j = 0; j < qk; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = fp16::from_fp32(d);
    // roundf: half away from zero (not the FP environment's rounding mode).
    for (int j = 0; j < qk; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

}  // namespace moe::ref
