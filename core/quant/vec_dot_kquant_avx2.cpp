// AVX2 kernels for the K-quants x Q8_K, R rows at a time (activation loads shared). The
// structure follows ggml's x86 kernels: maddubs(unsigned codes, int8 activations) gives int16
// pair sums, madd with the int16 sub-block scales gives int32; the weight minimum / offset is
// folded through the activation's per-16 sums (bsums) or an extra maddubs.
//
// Scale vectors: a maddubs over 32 elements yields 16 int16 lanes, lanes 0-7 from elements
// 0-15 and 8-15 from 16-31. For 16-element sub-blocks (Q2_K, Q3_K, Q6_K) the two halves need
// different scales (pair_scale_shuffle); for 32-element ones (Q4_K, Q5_K) one scale.
#include <type_traits>

#include "core/quant/kernel_adapters.h"
#include "core/quant/simd_avx2.h"

namespace moe::kern {
namespace {

using namespace x86;

// 16 int16 scales (sub-blocks of 16) -> the scale vector for 32-element quarter q (0..7).
inline __m256i quarter_scales(__m256i lo_b, __m256i hi_b, int q) {
  return _mm256_shuffle_epi8(q < 4 ? lo_b : hi_b, pair_scale_shuffle(q % 4));
}

struct KQ2_K {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_K*>(act);
    const __m256i m3 = _mm256_set1_epi8(3), m4 = _mm256_set1_epi8(0xF);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const __m256i bsums = load32(y[i].bsums);
      __m256i lo_b[R], hi_b[R], sumi[R];
      for (int r = 0; r < R; ++r) {
        const BlockQ2_K* x = row_block<BlockQ2_K>(w, stride, r, i);
        prefetch_block<sizeof(BlockQ2_K)>(x, R, stride);
        const __m128i packed = load16(x->scales);
        const __m256i sc = _mm256_cvtepu8_epi16(_mm_and_si128(packed, _mm256_castsi256_si128(m4)));
        const __m256i mn = _mm256_cvtepu8_epi16(
            _mm_and_si128(_mm_srli_epi16(packed, 4), _mm256_castsi256_si128(m4)));
        const __m256 mins = _mm256_cvtepi32_ps(_mm256_madd_epi16(mn, bsums));
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(-f16(x->dmin) * y[i].d), mins, acc[r]);
        lo_b[r] = bcast_lo(sc);
        hi_b[r] = bcast_hi(sc);
        sumi[r] = _mm256_setzero_si256();
      }
      for (int q = 0; q < 8; ++q) {  // quarter q: elements 32q.., bits 2(q%4) of qs[32(q/4)..]
        const __m256i qy = load32(y[i].qs + 32 * q);
        for (int r = 0; r < R; ++r) {
          const BlockQ2_K* x = row_block<BlockQ2_K>(w, stride, r, i);
          const __m256i bits = load32(x->qs + 32 * (q / 4));
          const __m256i u = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * (q % 4)), m3);
          const __m256i p = _mm256_maddubs_epi16(u, qy);
          sumi[r] =
              _mm256_add_epi32(sumi[r], _mm256_madd_epi16(quarter_scales(lo_b[r], hi_b[r], q), p));
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = f16(row_block<BlockQ2_K>(w, stride, r, i)->d) * y[i].d;
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

struct KQ3_K {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_K*>(act);
    const __m256i m3 = _mm256_set1_epi8(3), one = _mm256_set1_epi8(1);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      __m256i lo_b[R], hi_b[R], sumi[R], nh[R];
      for (int r = 0; r < R; ++r) {
        const BlockQ3_K* x = row_block<BlockQ3_K>(w, stride, r, i);
        prefetch_block<sizeof(BlockQ3_K)>(x, R, stride);
        const __m256i sc = q3k_scales(x->scales);
        lo_b[r] = bcast_lo(sc);
        hi_b[r] = bcast_hi(sc);
        nh[r] = _mm256_xor_si256(load32(x->hmask), _mm256_set1_epi8(-1));  // 1 = subtract 4
        sumi[r] = _mm256_setzero_si256();
      }
      for (int q = 0; q < 8; ++q) {  // quarter q: hmask bit q, low bits 2(q%4)
        const __m256i qy = load32(y[i].qs + 32 * q);
        for (int r = 0; r < R; ++r) {
          const BlockQ3_K* x = row_block<BlockQ3_K>(w, stride, r, i);
          const __m256i bits = load32(x->qs + 32 * (q / 4));
          const __m256i u = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * (q % 4)), m3);
          // 4 where the high bit is clear; the per-byte bit q moved to bit 2.
          const __m256i h =
              _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(nh[r], q), one), 2);
          const __m256i p =
              _mm256_sub_epi16(_mm256_maddubs_epi16(u, qy), _mm256_maddubs_epi16(h, qy));
          sumi[r] =
              _mm256_add_epi32(sumi[r], _mm256_madd_epi16(quarter_scales(lo_b[r], hi_b[r], q), p));
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = f16(row_block<BlockQ3_K>(w, stride, r, i)->d) * y[i].d;
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

template <bool kFive>
struct KQ45_K {
  using Block = std::conditional_t<kFive, BlockQ5_K, BlockQ4_K>;
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_K*>(act);
    const __m256i m4 = _mm256_set1_epi8(0xF), one = _mm256_set1_epi8(1);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      // Activation sums per 32-element sub-block, for the minimum term.
      const __m256i bs = load32(y[i].bsums);
      const __m128i ysum32 =
          _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
      __m256i scales[R], sumi[R], hb[R];
      for (int r = 0; r < R; ++r) {
        const Block* x = row_block<Block>(w, stride, r, i);
        prefetch_block<sizeof(Block)>(x, R, stride);
        const __m256i sm = q4k_scales_mins(x->scales);
        const __m128i prod = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), ysum32);
        const __m256 mins = _mm256_castps128_ps256(_mm_cvtepi32_ps(prod));  // upper lanes 0
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(-f16(x->dmin) * y[i].d),
                                 _mm256_blend_ps(_mm256_setzero_ps(), mins, 0x0F), acc[r]);
        scales[r] = bcast_lo(sm);
        sumi[r] = _mm256_setzero_si256();
        if constexpr (kFive) hb[r] = load32(x->qh);
      }
      for (int j = 0; j < 4; ++j) {  // 64 elements: sub-blocks 2j (low nibbles), 2j+1 (high)
        const __m256i ql = load32(y[i].qs + 64 * j), qh = load32(y[i].qs + 64 * j + 32);
        for (int r = 0; r < R; ++r) {
          const Block* x = row_block<Block>(w, stride, r, i);
          const __m256i bits = load32(x->qs + 32 * j);
          __m256i lo = _mm256_and_si256(bits, m4);
          __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
          if constexpr (kFive) {
            // Bits 2j and 2j+1 of qh[l] -> +16; hb is shifted right by 2 per j (bits that leak
            // across the byte boundary land above bit 1 and are masked off).
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(hb[r], one), 4));
            hi = _mm256_or_si256(
                hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb[r], 1), one), 4));
            hb[r] = _mm256_srli_epi16(hb[r], 2);
          }
          const __m256i pl =
              _mm256_madd_epi16(_mm256_shuffle_epi8(scales[r], one_scale_shuffle(2 * j)),
                                _mm256_maddubs_epi16(lo, ql));
          const __m256i ph =
              _mm256_madd_epi16(_mm256_shuffle_epi8(scales[r], one_scale_shuffle(2 * j + 1)),
                                _mm256_maddubs_epi16(hi, qh));
          sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(pl, ph));
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = f16(row_block<Block>(w, stride, r, i)->d) * y[i].d;
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

struct KQ6_K {
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_K*>(act);
    const __m256i m4 = _mm256_set1_epi8(0xF), m3 = _mm256_set1_epi8(3);
    const __m256i m32 = _mm256_set1_epi8(32);
    __m256 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      __m256i lo_b[R], hi_b[R], sumi[R];
      for (int r = 0; r < R; ++r) {
        const BlockQ6_K* x = row_block<BlockQ6_K>(w, stride, r, i);
        prefetch_block<sizeof(BlockQ6_K)>(x, R, stride);
        const __m256i sc = _mm256_cvtepi8_epi16(load16(x->scales));
        lo_b[r] = bcast_lo(sc);
        hi_b[r] = bcast_hi(sc);
        sumi[r] = _mm256_setzero_si256();
      }
      for (int q = 0; q < 8; ++q) {  // quarter q = 4 * half + t
        const int half = q / 4, t = q % 4;
        const __m256i qy = load32(y[i].qs + 32 * q);
        const __m256i off = _mm256_maddubs_epi16(m32, qy);  // 32 * a, pairwise
        for (int r = 0; r < R; ++r) {
          const BlockQ6_K* x = row_block<BlockQ6_K>(w, stride, r, i);
          const __m256i lbits = load32(x->ql + 64 * half + 32 * (t % 2));
          const __m256i low = _mm256_and_si256(t < 2 ? lbits : _mm256_srli_epi16(lbits, 4), m4);
          const __m256i hbits = load32(x->qh + 32 * half);
          const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * t), m3);
          const __m256i u = _mm256_or_si256(low, _mm256_slli_epi16(high, 4));
          const __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(u, qy), off);
          sumi[r] =
              _mm256_add_epi32(sumi[r], _mm256_madd_epi16(quarter_scales(lo_b[r], hi_b[r], q), p));
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = f16(row_block<BlockQ6_K>(w, stride, r, i)->d) * y[i].d;
        acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
  }
};

}  // namespace

void register_avx2_kquant(KernelTable& t) {
  set_kernel<KQ2_K, 2>(t, GgmlType::Q2_K);
  set_kernel<KQ3_K, 2>(t, GgmlType::Q3_K);
  set_kernel<KQ45_K<false>, 2>(t, GgmlType::Q4_K);
  set_kernel<KQ45_K<true>, 2>(t, GgmlType::Q5_K);
  set_kernel<KQ6_K, 2>(t, GgmlType::Q6_K);
}

}  // namespace moe::kern
