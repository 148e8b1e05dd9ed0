// Activation quantization (the "dot type" of each weight type) and its scalar reference.
//
// Choice for Q4_1 / Q5_1: ggml dots them with Q8_1 (which stores s = d * sum(q) to fold the
// weight minimum). We use plain Q8_0 for every 32-element format and compute sum(q) of the
// activation block inside the kernel (one maddubs, shared by all rows of a matvec): one
// activation buffer then serves every legacy type, and the sum is exact instead of rounded
// to fp16.
#include <cmath>
#include <cstring>

#include "core/quant/kernels.h"
#include "core/quant/quant.h"
#include "core/util/check.h"

namespace moe {
namespace kern {
namespace {

// ggml quantize_row_q8_0_ref: d = amax / 127 (stored as fp16), q = roundf(x / d) (half away
// from zero), with the reciprocal taken of the float d, not the rounded one.
void quantize_q8_0_scalar(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[i].d = float_to_half(d);
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::roundf(x[j] * id));
  }
}

// Round to nearest, ties to even, as ggml's nearest_int (the 1.5 * 2^23 trick); |v| < 2^22.
inline int nearest_int(float v) {
  const float t = v + 12582912.0f;
  return static_cast<int>(std::bit_cast<uint32_t>(t) & 0x007FFFFFu) - 0x00400000;
}

// ggml quantize_row_q8_K_ref: the element of largest magnitude (first one on ties) maps to
// -127, d = 1 / iscale in float, bsums[j] = sum of q over elements 16j .. 16j+15.
void quantize_q8_k_scalar(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) {
        amax = ax;
        max = x[j];
      }
    }
    if (amax == 0.0f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      const int v = nearest_int(iscale * x[j]);
      y[i].qs[j] = static_cast<int8_t>(v < 127 ? v : 127);
    }
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int k = 0; k < 16; ++k) sum += y[i].qs[16 * j + k];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1.0f / iscale;
  }
}

}  // namespace

void register_scalar_act(KernelTable& t) {
  t.quantize_q8_0 = quantize_q8_0_scalar;
  t.quantize_q8_k = quantize_q8_k_scalar;
}

}  // namespace kern

GgmlType vec_dot_type(GgmlType weight_type) {
  switch (weight_type) {
    case GgmlType::Q4_0:
    case GgmlType::Q4_1:
    case GgmlType::Q5_0:
    case GgmlType::Q5_1:
    case GgmlType::Q8_0:
      return GgmlType::Q8_0;
    case GgmlType::Q2_K:
    case GgmlType::Q3_K:
    case GgmlType::Q4_K:
    case GgmlType::Q5_K:
    case GgmlType::Q6_K:
      return GgmlType::Q8_K;
    default:
      return GgmlType::F32;  // F32, F16, BF16 (others are rejected by vec_dot)
  }
}

void quantize_activation(GgmlType weight_type, const float* x, void* dst, int64_t n) {
  const GgmlType dt = vec_dot_type(weight_type);
  MOE_CHECK(n % type_traits(dt)->block_size == 0, "activation length not a block multiple");
  const kern::KernelTable& k = kern::active_kernels();
  switch (dt) {
    case GgmlType::Q8_0:
      k.quantize_q8_0(x, dst, n);
      break;
    case GgmlType::Q8_K:
      k.quantize_q8_k(x, dst, n);
      break;
    default:
      std::memcpy(dst, x, static_cast<size_t>(n) * sizeof(float));
      break;
  }
}

}  // namespace moe
