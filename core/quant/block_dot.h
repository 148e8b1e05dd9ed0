#pragma once
// Per-block dot products of a quantized weight block with its prepared activation block (Q8_0
// for Q4_0 / Q8_0, Q8_K for the K-quants), shared by the scalar CPU kernels
// (vec_dot_scalar.cpp, vec_dot_kquant_scalar.cpp) and the CUDA kernels (core/cuda/). Two layers:
//   * isum_*: the exact int32 sum of q_w[e] * q_a[e] over one block or sub-block, decoded as
//     ggml's dequantize_row_* lays the elements out. Integer maths: identical on CPU and GPU.
//   * Chunk<type>: the float contribution of one 32-element chunk of a row, the unit one CUDA
//     lane works on (a row of n elements has n / 32 chunks). Summing the chunks of a row in
//     order is the CPU twin of the CUDA mat-vec (core/cuda/kernels.h); the scalar CPU kernels
//     sum the integer sub-block sums of a whole super-block first, so the two agree up to float
//     rounding (a few ulps of the row's magnitude), not bit for bit.
#include <cstdint>

#include "core/quant/blocks.h"
#include "core/quant/fp16_inline.h"
#include "core/quant/hd.h"

namespace moe::blockdot {
namespace {  // internal linkage: see fp16_inline.h

/// K-quant 6-bit scale/min pair j (0..7) of a Q4_K / Q5_K block (ggml get_scale_min_k4).
MOE_HD void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
  }
}

/// Q4_0 element j (0..31): low nibble of qs[j] for j < 16, high nibble of qs[j - 16] after,
/// offset by 8.
MOE_HD int q4_0_value(const BlockQ4_0& x, int j) {
  return j < 16 ? (x.qs[j] & 0xF) - 8 : (x.qs[j - 16] >> 4) - 8;
}

/// Q4_K element 32 sb + l: 64-element groups sb / 2; the low nibbles of qs[32 (sb/2) .. +31]
/// are the even sub-block, the high nibbles the odd one.
MOE_HD int q4_K_value(const BlockQ4_K& x, int sb, int l) {
  return (x.qs[32 * (sb / 2) + l] >> (4 * (sb % 2))) & 0xF;
}

/// Q6_K element e (0..255): per 128-element half, ql[0..63] and qh[0..31]; quarter t of 32
/// elements takes the low (t < 2) or high nibble of ql[l + 32 (t % 2)] and bits 2t..2t+1 of
/// qh[l]; q - 32. Its scale is scales[e / 16].
MOE_HD int q6_K_value(const BlockQ6_K& x, int e) {
  const int half = e / 128, t = (e % 128) / 32, l = e % 32;
  const uint8_t qlb = x.ql[64 * half + l + 32 * (t % 2)];
  const int low = t < 2 ? (qlb & 0xF) : (qlb >> 4);
  const int high = (x.qh[32 * half + l] >> (2 * t)) & 3;
  return (low | (high << 4)) - 32;
}

MOE_HD int isum_q4_0(const BlockQ4_0& x, const BlockQ8_0& y) {
  int isum = 0;
  for (int j = 0; j < kQK4_0; ++j) isum += q4_0_value(x, j) * y.qs[j];
  return isum;
}

MOE_HD int isum_q8_0(const BlockQ8_0& x, const BlockQ8_0& y) {
  int isum = 0;
  for (int j = 0; j < kQK8_0; ++j) isum += x.qs[j] * y.qs[j];
  return isum;
}

/// Q4_K sub-block sb (0..7, 32 elements).
MOE_HD int isum_q4_K_sub(const BlockQ4_K& x, const BlockQ8_K& y, int sb) {
  const int8_t* a = y.qs + 32 * sb;
  int isum = 0;
  for (int l = 0; l < 32; ++l) isum += q4_K_value(x, sb, l) * a[l];
  return isum;
}

/// Q5_K: as Q4_K, with the fifth bit of element 32 sb + l in bit sb of qh[l].
MOE_HD int isum_q5_K_sub(const BlockQ5_K& x, const BlockQ8_K& y, int sb) {
  const uint8_t* q = x.qs + 32 * (sb / 2);
  const int8_t* a = y.qs + 32 * sb;
  const int shift = 4 * (sb % 2);
  int isum = 0;
  for (int l = 0; l < 32; ++l) {
    isum += (((q[l] >> shift) & 0xF) | (((x.qh[l] >> sb) & 1) << 4)) * a[l];
  }
  return isum;
}

/// Q6_K sub-block s (0..15, 16 elements).
MOE_HD int isum_q6_K_sub(const BlockQ6_K& x, const BlockQ8_K& y, int s) {
  int isum = 0;
  for (int j = 0; j < 16; ++j) isum += q6_K_value(x, 16 * s + j) * y.qs[16 * s + j];
  return isum;
}

/// a * b and a - b rounded on their own: nvcc would otherwise fuse d1 * q - m1 into one FMA,
/// and dequantized values must equal ggml's (core/quant/dequant_k.cpp) bit for bit.
MOE_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
MOE_HD float sub_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

/// Chunk<W>::dot(w, a, c): float contribution of chunk c (0 .. kChunks-1) of one block pair;
/// Chunk<W>::value(w, c, l): element l (0..31) of chunk c dequantized bit-exactly as ggml (the
/// f16 tiles of the cuBLAS prefill).
template <class W>
struct Chunk;

template <>
struct Chunk<BlockQ4_0> {
  using Act = BlockQ8_0;
  static constexpr int kChunks = 1;
  MOE_HD static float dot(const BlockQ4_0& w, const BlockQ8_0& a, int) {
    return fp16::to_fp32(w.d) * fp16::to_fp32(a.d) * static_cast<float>(isum_q4_0(w, a));
  }
  /// Element l (0..31) of chunk c, dequantized as ggml: d * q.
  MOE_HD static float value(const BlockQ4_0& w, int, int l) {
    return mul_rn(static_cast<float>(q4_0_value(w, l)), fp16::to_fp32(w.d));
  }
};

template <>
struct Chunk<BlockQ8_0> {
  using Act = BlockQ8_0;
  static constexpr int kChunks = 1;
  MOE_HD static float dot(const BlockQ8_0& w, const BlockQ8_0& a, int) {
    return fp16::to_fp32(w.d) * fp16::to_fp32(a.d) * static_cast<float>(isum_q8_0(w, a));
  }
  MOE_HD static float value(const BlockQ8_0& w, int, int l) {
    return mul_rn(static_cast<float>(w.qs[l]), fp16::to_fp32(w.d));
  }
};

// Q4_K chunk c = sub-block c: d_a (d sc_c Σ q a - dmin m_c Σ a), Σ a from the bsums.
template <>
struct Chunk<BlockQ4_K> {
  using Act = BlockQ8_K;
  static constexpr int kChunks = 8;
  MOE_HD static float dot(const BlockQ4_K& w, const BlockQ8_K& a, int c) {
    uint8_t sc = 0, m = 0;
    get_scale_min_k4(c, w.scales, &sc, &m);
    const int asum = a.bsums[2 * c] + a.bsums[2 * c + 1];
    return a.d * (fp16::to_fp32(w.d) * static_cast<float>(sc * isum_q4_K_sub(w, a, c)) -
                  fp16::to_fp32(w.dmin) * static_cast<float>(m * asum));
  }
  /// ggml: d1 = d * sc, m1 = dmin * m, x = d1 * q - m1.
  MOE_HD static float value(const BlockQ4_K& w, int c, int l) {
    uint8_t sc = 0, m = 0;
    get_scale_min_k4(c, w.scales, &sc, &m);
    const float d1 = mul_rn(fp16::to_fp32(w.d), static_cast<float>(sc));
    const float m1 = mul_rn(fp16::to_fp32(w.dmin), static_cast<float>(m));
    return sub_rn(mul_rn(d1, static_cast<float>(q4_K_value(w, c, l))), m1);
  }
};

// Q6_K chunk c = sub-blocks 2c and 2c+1 (16 elements each, their own scales).
template <>
struct Chunk<BlockQ6_K> {
  using Act = BlockQ8_K;
  static constexpr int kChunks = 8;
  MOE_HD static float dot(const BlockQ6_K& w, const BlockQ8_K& a, int c) {
    const int s = w.scales[2 * c] * isum_q6_K_sub(w, a, 2 * c) +
                  w.scales[2 * c + 1] * isum_q6_K_sub(w, a, 2 * c + 1);
    return a.d * fp16::to_fp32(w.d) * static_cast<float>(s);
  }
  /// ggml: x = (d * sc) * q.
  MOE_HD static float value(const BlockQ6_K& w, int c, int l) {
    const int e = 32 * c + l;
    return mul_rn(mul_rn(fp16::to_fp32(w.d), static_cast<float>(w.scales[e / 16])),
                  static_cast<float>(q6_K_value(w, e)));
  }
};

/// Dot of one weight row (nb blocks) with its activation row, chunk by chunk in order: the CPU
/// twin of one CUDA mat-vec row (which sums the same chunks in a different order).
template <class W>
MOE_HD float row_dot_chunks(const W* w, const typename Chunk<W>::Act* a, int64_t nb) {
  float sum = 0;
  for (int64_t b = 0; b < nb; ++b) {
    for (int c = 0; c < Chunk<W>::kChunks; ++c) sum += Chunk<W>::dot(w[b], a[b], c);
  }
  return sum;
}

}  // namespace
}  // namespace moe::blockdot
