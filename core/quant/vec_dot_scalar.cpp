// Portable scalar reference kernels for the float types (activation: F32) and the 32-element
// legacy formats (activation: Q8_0). Written for clarity: the SIMD files are checked against
// these. Each block contributes d_w * d_a * sum_i(q_w[i] * q_a[i]) (+ m_w * d_a * sum_i q_a[i]
// for the formats with a minimum), summed in int32 within a block and in float across blocks.
#include "core/quant/block_dot.h"
#include "core/quant/kernels.h"

namespace moe::kern {
namespace {

float dot_f32(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const float*>(w);
  const auto* y = static_cast<const float*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

float dot_f16(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += half_to_float(x[i]) * y[i];
  return sum;
}

float dot_bf16(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const uint16_t*>(w);
  const auto* y = static_cast<const float*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += bf16_bits_to_float(x[i]) * y[i];
  return sum;
}

// Element layout: core/quant/block_dot.h (shared with the CUDA kernels).
float dot_q4_0(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ4_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    const int isum = blockdot::isum_q4_0(x[i], y[i]);
    sum += half_to_float(x[i].d) * half_to_float(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q4_1(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ4_1*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    int isum = 0, ysum = 0;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      isum += (x[i].qs[j] & 0xF) * y[i].qs[j] + (x[i].qs[j] >> 4) * y[i].qs[j + 16];
      ysum += y[i].qs[j] + y[i].qs[j + 16];
    }
    const float dy = half_to_float(y[i].d);
    sum += half_to_float(x[i].d) * dy * static_cast<float>(isum) +
           half_to_float(x[i].m) * dy * static_cast<float>(ysum);
  }
  return sum;
}

// Fifth bit of element j is bit j of qh (little-endian uint32).
inline uint32_t load_qh(const uint8_t* qh) {
  return static_cast<uint32_t>(qh[0]) | (static_cast<uint32_t>(qh[1]) << 8) |
         (static_cast<uint32_t>(qh[2]) << 16) | (static_cast<uint32_t>(qh[3]) << 24);
}

float dot_q5_0(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ5_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_0; ++i) {
    const uint32_t qh = load_qh(x[i].qh);
    int isum = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const int lo = (x[i].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
      const int hi = (x[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
      isum += (lo - 16) * y[i].qs[j] + (hi - 16) * y[i].qs[j + 16];
    }
    sum += half_to_float(x[i].d) * half_to_float(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

float dot_q5_1(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ5_1*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const uint32_t qh = load_qh(x[i].qh);
    int isum = 0, ysum = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const int lo = (x[i].qs[j] & 0xF) | static_cast<int>(((qh >> j) & 1) << 4);
      const int hi = (x[i].qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1) << 4);
      isum += lo * y[i].qs[j] + hi * y[i].qs[j + 16];
      ysum += y[i].qs[j] + y[i].qs[j + 16];
    }
    const float dy = half_to_float(y[i].d);
    sum += half_to_float(x[i].d) * dy * static_cast<float>(isum) +
           half_to_float(x[i].m) * dy * static_cast<float>(ysum);
  }
  return sum;
}

float dot_q8_0(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ8_0*>(w);
  const auto* y = static_cast<const BlockQ8_0*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    const int isum = blockdot::isum_q8_0(x[i], y[i]);
    sum += half_to_float(x[i].d) * half_to_float(y[i].d) * static_cast<float>(isum);
  }
  return sum;
}

}  // namespace

void register_scalar_float(KernelTable& t) {
  t.vec_dot[idx(GgmlType::F32)] = dot_f32;
  t.vec_dot[idx(GgmlType::F16)] = dot_f16;
  t.vec_dot[idx(GgmlType::BF16)] = dot_bf16;
}

void register_scalar_legacy(KernelTable& t) {
  t.vec_dot[idx(GgmlType::Q4_0)] = dot_q4_0;
  t.vec_dot[idx(GgmlType::Q4_1)] = dot_q4_1;
  t.vec_dot[idx(GgmlType::Q5_0)] = dot_q5_0;
  t.vec_dot[idx(GgmlType::Q5_1)] = dot_q5_1;
  t.vec_dot[idx(GgmlType::Q8_0)] = dot_q8_0;
}

}  // namespace moe::kern
