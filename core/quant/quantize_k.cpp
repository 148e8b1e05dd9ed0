// Reference quantizers for the K-quant super-blocks, as ggml's quantize_row_q{2..6}_K_ref (what
// llama-quantize uses without an importance matrix). Each super-block of 256 is split into
// sub-blocks whose scales (and mins) are fitted by the searches in quantize_k_search.cpp, the
// sub-block scales are themselves quantized to 4/6/8 bits against one fp16 super-scale, and the
// elements are then re-quantized against the scales actually stored.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/quant/fp16_inline.h"
#include "core/quant/quant_ref.h"
#include "core/quant/quantize_k_search.h"

namespace moe::ref {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

inline uint8_t u8(int v) {
  return static_cast<uint8_t>(v);
}

// 2-bit levels of 256 elements into qs: byte l of each 32-byte group holds elements l, l+32,
// l+64, l+96 of its 128-element half (bits 0-1, 2-3, 4-5, 6-7).
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] =
          u8(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

// Q4_K / Q5_K: 8 (scale, min) pairs of 6 bits into 12 bytes (see get_scale_min_k4).
void pack_scales_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* scales) {
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      scales[j] = ls[j];
      scales[j + 4] = lm[j];
    } else {
      scales[j + 4] = u8((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      scales[j - 4] |= u8((ls[j] >> 4) << 6);
      scales[j - 0] |= u8((lm[j] >> 4) << 6);
    }
  }
}

// Shared body of Q4_K and Q5_K: per 32-element sub-block an asymmetric fit with weights
// sqrt(mean x^2) + |x|, then 6-bit scales/mins against d = max_scale/63, dmin = max_min/63, then
// levels L in [0, nmax] re-fitted against the stored scales.
void quantize_k4_body(const float* x, int nmax, float rmin, int nstep, uint8_t* L,
                      uint8_t* scales_out, f16_bits* d_out, f16_bits* dmin_out) {
  uint8_t Laux[32];
  float weights[32], mins[8], scales[8];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < 8; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    scales[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                                 0.1f, nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    // ggml stores nearest_int into a uint8_t before clamping: a negative value wraps to >= 63.
    ls[j] = std::min<uint8_t>(63, u8(nearest_int(inv_scale * scales[j])));
    lm[j] = std::min<uint8_t>(63, u8(nearest_int(inv_min * mins[j])));
  }
  pack_scales_k4(ls, lm, scales_out);
  *d_out = fp16::from_fp32(max_scale / 63.f);
  *dmin_out = fp16::from_fp32(max_min / 63.f);

  uint8_t sc, m;
  for (int j = 0; j < 8; ++j) {
    get_scale_min_k4(j, scales_out, &sc, &m);
    const float d = fp16::to_fp32(*d_out) * static_cast<float>(sc);
    if (d == 0.0f) continue;
    const float dm = fp16::to_fp32(*dmin_out) * static_cast<float>(m);
    for (int ii = 0; ii < 32; ++ii) {
      const int l = nearest_int((x[32 * j + ii] + dm) / d);
      L[32 * j + ii] = u8(std::max(0, std::min(nmax, l)));
    }
  }
}

}  // namespace

void quantize_row_q2_K(const float* x, BlockQ2_K* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  uint8_t L[kQK_K], Laux[16];
  float weights[16], mins[16], scales[16];
  constexpr float q4scale = 15.f;
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                   0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < 16; ++j) y[i].scales[j] = u8(nearest_int(iscale * scales[j]));
      y[i].d = fp16::from_fp32(max_scale / q4scale);
    } else {
      std::memset(y[i].scales, 0, sizeof(y[i].scales));
      y[i].d = fp16::from_fp32(0.f);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < 16; ++j) y[i].scales[j] |= u8(nearest_int(iscale * mins[j]) << 4);
      y[i].dmin = fp16::from_fp32(max_min / q4scale);
    } else {
      y[i].dmin = fp16::from_fp32(0.f);
    }
    for (int j = 0; j < 16; ++j) {
      const float d = fp16::to_fp32(y[i].d) * static_cast<float>(y[i].scales[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = fp16::to_fp32(y[i].dmin) * static_cast<float>(y[i].scales[j] >> 4);
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int((x[16 * j + ii] + dm) / d);
        L[16 * j + ii] = u8(std::max(0, std::min(3, l)));
      }
    }
    pack_2bit(L, y[i].qs);
  }
}

void quantize_row_q3_K(const float* x, BlockQ3_K* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  int8_t L[kQK_K];
  float scales[16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
      scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }
    // 6-bit signed scales (+32): low 4 bits in nibbles of scales[0..7], high 2 bits in [8..11].
    std::memset(y[i].scales, 0, 12);
    if (max_scale != 0.0f) {
      const float iscale = -32.f / max_scale;
      for (int j = 0; j < 16; ++j) {
        int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        l = static_cast<int8_t>(std::max<int>(-32, std::min<int>(31, l)) + 32);
        if (j < 8) {
          y[i].scales[j] = u8(l & 0xF);
        } else {
          y[i].scales[j - 8] |= u8((l & 0xF) << 4);
        }
        l = static_cast<int8_t>(l >> 4);
        y[i].scales[j % 4 + 8] |= u8(l << (2 * (j / 4)));
      }
      y[i].d = fp16::from_fp32(1 / iscale);
    } else {
      y[i].d = fp16::from_fp32(0.f);
    }
    for (int j = 0; j < 16; ++j) {
      const int lo = j < 8 ? (y[i].scales[j] & 0xF) : (y[i].scales[j - 8] >> 4);
      const int sc = (lo | (((y[i].scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
      const float d = fp16::to_fp32(y[i].d) * static_cast<float>(sc);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
      }
    }
    // High bit of level j -> hmask[j % 32], bit j / 32; the low 2 bits go to qs.
    std::memset(y[i].hmask, 0, sizeof(y[i].hmask));
    uint8_t Lu[kQK_K];
    for (int j = 0; j < kQK_K; ++j) {
      int l = L[j];
      if (l > 3) {
        y[i].hmask[j % 32] |= u8(1 << (j / 32));
        l -= 4;
      }
      Lu[j] = u8(l);
    }
    pack_2bit(Lu, y[i].qs);
  }
}

void quantize_row_q4_K(const float* x, BlockQ4_K* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    quantize_k4_body(x, 15, -1.f, 20, L, y[i].scales, &y[i].d, &y[i].dmin);
    // Low nibble: sub-block 2p, high nibble: sub-block 2p+1.
    uint8_t* q = y[i].qs;
    for (int j = 0; j < kQK_K; j += 64, q += 32) {
      for (int l = 0; l < 32; ++l) q[l] = u8(L[j + l] | (L[j + l + 32] << 4));
    }
  }
}

void quantize_row_q5_K(const float* x, BlockQ5_K* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  uint8_t L[kQK_K];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    quantize_k4_body(x, 31, -0.5f, 15, L, y[i].scales, &y[i].d, &y[i].dmin);
    // 4 low bits as in Q4_K; the 5th bit of sub-block 2p goes to qh bit 2p, of 2p+1 to 2p+1.
    uint8_t* qh = y[i].qh;
    uint8_t* ql = y[i].qs;
    std::memset(qh, 0, kQK_K / 8);
    uint8_t m1 = 1, m2 = 2;
    for (int n = 0; n < kQK_K; n += 64, ql += 32) {
      for (int j = 0; j < 32; ++j) {
        int l1 = L[n + j], l2 = L[n + j + 32];
        if (l1 > 15) {
          l1 -= 16;
          qh[j] |= m1;
        }
        if (l2 > 15) {
          l2 -= 16;
          qh[j] |= m2;
        }
        ql[j] = u8(l1 | (l2 << 4));
      }
      m1 = u8(m1 << 2);
      m2 = u8(m2 << 2);
    }
  }
}

void quantize_row_q6_K(const float* x, BlockQ6_K* y, int64_t k) {
  const int64_t nb = k / kQK_K;
  int8_t L[kQK_K];
  float scales[16];
  for (int64_t i = 0; i < nb; ++i, x += kQK_K) {
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < 16; ++ib) {
      const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, nullptr);
      scales[ib] = scale;
      if (std::fabs(scale) > max_abs_scale) {
        max_abs_scale = std::fabs(scale);
        max_scale = scale;
      }
    }
    if (max_abs_scale < kGroupMaxEps) {
      std::memset(&y[i], 0, sizeof(BlockQ6_K));
      continue;
    }
    const float iscale = -128.f / max_scale;
    y[i].d = fp16::from_fp32(1 / iscale);
    for (int ib = 0; ib < 16; ++ib) {
      y[i].scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
    }
    for (int j = 0; j < 16; ++j) {
      const float d = fp16::to_fp32(y[i].d) * static_cast<float>(y[i].scales[j]);
      if (d == 0.0f) continue;
      for (int ii = 0; ii < 16; ++ii) {
        const int l = nearest_int(x[16 * j + ii] / d);
        L[16 * j + ii] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }
    // Per 128 elements: ql[l] = low nibbles of (l, l+64), ql[l+32] of (l+32, l+96); qh[l] the
    // 2 high bits of l, l+32, l+64, l+96.
    uint8_t* ql = y[i].ql;
    uint8_t* qh = y[i].qh;
    for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
      for (int l = 0; l < 32; ++l) {
        const int q1 = L[j + l + 0], q2 = L[j + l + 32], q3 = L[j + l + 64], q4 = L[j + l + 96];
        ql[l + 0] = u8((q1 & 0xF) | ((q3 & 0xF) << 4));
        ql[l + 32] = u8((q2 & 0xF) | ((q4 & 0xF) << 4));
        qh[l] = u8((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
      }
    }
  }
}

}  // namespace moe::ref
