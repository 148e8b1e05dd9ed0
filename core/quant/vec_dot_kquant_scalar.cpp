// Portable scalar reference kernels for the K-quants (activation: Q8_K, 256-element blocks).
// Each weight value is decoded from its element index e (0..255) exactly as ggml's
// dequantize_row_q*_K lays it out; products are summed in int32 per sub-block, scaled by the
// integer sub-block scale, and the super-block float scales are applied once:
//   dot = d_a * (d * sum_sb sc[sb] * sum_{e in sb} q[e] * a[e] - dmin * sum_sb m[sb] * asum[sb])
#include <type_traits>

#include "core/quant/block_dot.h"
#include "core/quant/kernels.h"

namespace moe::kern {
namespace {

float dot_q2_k(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ2_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int isum[16] = {};
    for (int e = 0; e < kQK_K; ++e) {
      // 128-element halves; within one, 4 shifts of 32 elements.
      const int half = e / 128, k = (e % 128) / 32, l = e % 32;
      const int q = (x[i].qs[32 * half + l] >> (2 * k)) & 3;
      isum[e / 16] += q * y[i].qs[e];
    }
    int scaled = 0, mins = 0;
    for (int sb = 0; sb < 16; ++sb) {
      scaled += (x[i].scales[sb] & 0xF) * isum[sb];
      mins += (x[i].scales[sb] >> 4) * y[i].bsums[sb];
    }
    sum += y[i].d * (half_to_float(x[i].d) * static_cast<float>(scaled) -
                     half_to_float(x[i].dmin) * static_cast<float>(mins));
  }
  return sum;
}

float dot_q3_k(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ3_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int8_t sc[16];
    unpack_q3k_scales(x[i].scales, sc);
    int isum[16] = {};
    for (int e = 0; e < kQK_K; ++e) {
      const int half = e / 128, k = (e % 128) / 32, l = e % 32;
      const int low = (x[i].qs[32 * half + l] >> (2 * k)) & 3;
      const bool high = (x[i].hmask[l] >> (4 * half + k)) & 1;
      isum[e / 16] += (low - (high ? 0 : 4)) * y[i].qs[e];
    }
    int scaled = 0;
    for (int sb = 0; sb < 16; ++sb) scaled += sc[sb] * isum[sb];
    sum += y[i].d * half_to_float(x[i].d) * static_cast<float>(scaled);
  }
  return sum;
}

// Q4_K / Q5_K: 8 sub-blocks of 32 (element layout: core/quant/block_dot.h, shared with CUDA).
template <bool kFive>
float dot_q45_k(int64_t n, const void* w, const void* act) {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  const auto* x = static_cast<const Block*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    uint8_t sc[8], mn[8];
    unpack_q4k_scales(x[i].scales, sc, mn);
    int scaled = 0, mins = 0;
    for (int sb = 0; sb < 8; ++sb) {
      int isum = 0;
      if constexpr (kFive) {
        isum = blockdot::isum_q5_K_sub(x[i], y[i], sb);
      } else {
        isum = blockdot::isum_q4_K_sub(x[i], y[i], sb);
      }
      scaled += sc[sb] * isum;
      mins += mn[sb] * (y[i].bsums[2 * sb] + y[i].bsums[2 * sb + 1]);
    }
    sum += y[i].d * (half_to_float(x[i].d) * static_cast<float>(scaled) -
                     half_to_float(x[i].dmin) * static_cast<float>(mins));
  }
  return sum;
}

// Q6_K: 16 sub-blocks of 16 with int8 scales (element layout: core/quant/block_dot.h).
float dot_q6_k(int64_t n, const void* w, const void* act) {
  const auto* x = static_cast<const BlockQ6_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(act);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int scaled = 0;
    for (int sb = 0; sb < 16; ++sb) scaled += x[i].scales[sb] * blockdot::isum_q6_K_sub(x[i], y[i], sb);
    sum += y[i].d * half_to_float(x[i].d) * static_cast<float>(scaled);
  }
  return sum;
}

}  // namespace

void register_scalar_kquant(KernelTable& t) {
  t.vec_dot[idx(GgmlType::Q2_K)] = dot_q2_k;
  t.vec_dot[idx(GgmlType::Q3_K)] = dot_q3_k;
  t.vec_dot[idx(GgmlType::Q4_K)] = dot_q45_k<false>;
  t.vec_dot[idx(GgmlType::Q5_K)] = dot_q45_k<true>;
  t.vec_dot[idx(GgmlType::Q6_K)] = dot_q6_k;
}

}  // namespace moe::kern
