// Dequantization of the 32-element block formats (ggml-quants.c dequantize_row_q4_0 ...).
// Each value is one float multiply (and one add for the "_1" formats with a minimum), in the
// same order as ggml, so the output is bit-identical: x = d * q, or x = d * q + m.
#include <cstring>

#include "core/quant/fp16_inline.h"
#include "core/quant/quant_ref.h"

namespace moe::ref {

void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t k) {
  constexpr int qk = kQK4_0;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16::to_fp32(x[i].d);
    float* out = y + i * qk;
    for (int j = 0; j < qk / 2; ++j) {
      // low nibbles are elements 0..15, high nibbles 16..31; stored offset by 8
      const int x0 = (x[i].qs[j] & 0x0F) - 8;
      const int x1 = (x[i].qs[j] >> 4) - 8;
      out[j] = static_cast<float>(x0) * d;
      out[j + qk / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t k) {
  constexpr int qk = kQK4_1;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16::to_fp32(x[i].d);
    const float m = fp16::to_fp32(x[i].m);
    float* out = y + i * qk;
    for (int j = 0; j < qk / 2; ++j) {
      const int x0 = x[i].qs[j] & 0x0F;
      const int x1 = x[i].qs[j] >> 4;
      out[j] = static_cast<float>(x0) * d + m;
      out[j + qk / 2] = static_cast<float>(x1) * d + m;
    }
  }
}

void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t k) {
  constexpr int qk = kQK5_0;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16::to_fp32(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof(qh));  // bit j = 5th bit of element j
    float* out = y + i * qk;
    for (int j = 0; j < qk / 2; ++j) {
      const uint32_t xh0 = ((qh >> j) << 4) & 0x10u;
      const uint32_t xh1 = (qh >> (j + 12)) & 0x10u;
      const int x0 = static_cast<int>((x[i].qs[j] & 0x0Fu) | xh0) - 16;
      const int x1 = static_cast<int>((x[i].qs[j] >> 4) | xh1) - 16;
      out[j] = static_cast<float>(x0) * d;
      out[j + qk / 2] = static_cast<float>(x1) * d;
    }
  }
}

void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t k) {
  constexpr int qk = kQK5_1;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16::to_fp32(x[i].d);
    const float m = fp16::to_fp32(x[i].m);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof(qh));
    float* out = y + i * qk;
    for (int j = 0; j < qk / 2; ++j) {
      const uint32_t xh0 = ((qh >> j) << 4) & 0x10u;
      const uint32_t xh1 = (qh >> (j + 12)) & 0x10u;
      const int x0 = static_cast<int>((x[i].qs[j] & 0x0Fu) | xh0);
      const int x1 = static_cast<int>((x[i].qs[j] >> 4) | xh1);
      out[j] = static_cast<float>(x0) * d + m;
      out[j + qk / 2] = static_cast<float>(x1) * d + m;
    }
  }
}

void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t k) {
  constexpr int qk = kQK8_0;
  const int64_t nb = k / qk;
  for (int64_t i = 0; i < nb; ++i) {
    const float d = fp16::to_fp32(x[i].d);
    float* out = y + i * qk;
    for (int j = 0; j < qk; ++j) out[j] = static_cast<float>(x[i].qs[j]) * d;
  }
}

}  // namespace moe::ref
