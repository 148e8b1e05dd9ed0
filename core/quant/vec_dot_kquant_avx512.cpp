// AVX-512 (F + BW + VL + DQ) kernels for the K-quants x Q8_K, R rows at a time. One 512-bit
// register holds 64 consecutive codes of a super-block, so one 64-byte activation load feeds
// one maddubs per row; sub-block scales are placed with vpermw (int16 lane L of a maddubs
// result covers elements 2L, 2L+1, i.e. the 16-element sub-block L / 8 of the 64).
// run_tokens<T> is the prefill form: one row x T activation vectors, unpacking each weight
// block once for all T tokens (matmul_rows).
// No VNNI here: every product needs its integer sub-block scale, which maddubs + madd(scale)
// applies in the same two instructions that vpdpbusd + a multiply would take. (The Q4_K kernel,
// vec_dot_kquant_avx512_q4k.inc, fuses madd + add into VNNI's vpdpwssd.)
#include <algorithm>
#include <type_traits>
#include <vector>

#include "core/quant/kernel_adapters.h"
#include "core/quant/simd_avx2.h"

namespace moe::kern {
namespace {

using x86::row_block;

inline __m512i load64(const void* p) {
  return _mm512_loadu_si512(p);
}

/// Two 256-bit halves -> one register.
inline __m512i join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/// vpermw index: int16 lanes 8k..8k+7 <- element `first + k` (k = 0..3), for 16-element
/// sub-blocks; with `wide`, lanes 16k..16k+15 <- `first + k` (k = 0..1), 32-element ones.
inline __m512i scale_index(int first, bool wide) {
  alignas(64) int16_t idx[32];
  for (int l = 0; l < 32; ++l) idx[l] = static_cast<int16_t>(first + (wide ? l / 16 : l / 8));
  return _mm512_load_si512(idx);
}

/// 16-bit-lane shift counts: a in the low 256 bits, b in the high.
inline __m512i shifts(int a, int b) {
  return join(_mm256_set1_epi16(static_cast<short>(a)), _mm256_set1_epi16(static_cast<short>(b)));
}

inline float reduce(__m512 v) {
  return _mm512_reduce_add_ps(v);
}

// Q5_K (Q4_K has its own kernel, vec_dot_kquant_avx512_q4k.inc).
struct KQ5_K512 {
  using Block = BlockQ5_K;
  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_K*>(act);
    const __m512i m4 = _mm512_set1_epi8(0xF), one = _mm512_set1_epi8(1);
    __m512i sidx[4], hshift[4];
    for (int j = 0; j < 4; ++j) {
      sidx[j] = scale_index(2 * j, true);
      hshift[j] = shifts(2 * j, 2 * j + 1);
    }
    __m512 acc[R];
    __m128 accm[R];
    for (int r = 0; r < R; ++r) {
      acc[r] = _mm512_setzero_ps();
      accm[r] = _mm_setzero_ps();
    }
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      const __m256i bs = x86::load32(y[i].bsums);
      const __m128i ysum32 =
          _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
      __m512i scales[R], sumi[R], hb[R];
      for (int r = 0; r < R; ++r) {
        const Block* x = row_block<Block>(w, stride, r, i);
        x86::prefetch_block<sizeof(Block)>(x, R, stride);
        const __m256i sm = x86::q4k_scales_mins(x->scales);
        const __m128 mins =
            _mm_cvtepi32_ps(_mm_madd_epi16(_mm256_extracti128_si256(sm, 1), ysum32));
        accm[r] = _mm_fmadd_ps(_mm_set1_ps(-x86::f16(x->dmin) * y[i].d), mins, accm[r]);
        scales[r] = _mm512_castsi256_si512(sm);
        sumi[r] = _mm512_setzero_si512();
        hb[r] = _mm512_broadcast_i64x4(x86::load32(x->qh));
      }
      for (int j = 0; j < 4; ++j) {  // elements 64j..64j+63: sub-blocks 2j, 2j+1
        const __m512i qy = load64(y[i].qs + 64 * j);
        for (int r = 0; r < R; ++r) {
          const Block* x = row_block<Block>(w, stride, r, i);
          const __m256i bits = x86::load32(x->qs + 32 * j);
          const __m512i h = _mm512_and_si512(_mm512_srlv_epi16(hb[r], hshift[j]), one);
          const __m512i u = _mm512_or_si512(
              _mm512_and_si512(join(bits, _mm256_srli_epi16(bits, 4)), m4), _mm512_slli_epi16(h, 4));
          const __m512i p = _mm512_maddubs_epi16(u, qy);
          sumi[r] = _mm512_add_epi32(
              sumi[r], _mm512_madd_epi16(_mm512_permutexvar_epi16(sidx[j], scales[r]), p));
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = x86::f16(row_block<Block>(w, stride, r, i)->d) * y[i].d;
        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi[r]), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) {
      __m128 m = _mm_add_ps(accm[r], _mm_movehl_ps(accm[r], accm[r]));
      m = _mm_add_ss(m, _mm_movehdup_ps(m));
      out[r] = reduce(acc[r]) + _mm_cvtss_f32(m);
    }
  }

  /// One weight row x T activation rows (prefill): the row is unpacked once per 64 codes and
  /// dotted with every token. Per (row, token) the operations are those of run<1>, so results
  /// are bit-identical to vec_dot.
  template <int T>
  static void run_tokens(const uint8_t* w, size_t stride, int64_t n, const uint8_t* acts,
                         size_t act_stride, float* out, size_t out_stride) {
    const auto* x = reinterpret_cast<const Block*>(w);
    const BlockQ8_K* y[T];
    for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8_K*>(acts + t * act_stride);
    const __m512i m4 = _mm512_set1_epi8(0xF), one = _mm512_set1_epi8(1);
    __m512 acc[T];
    __m128 accm[T];
    for (int t = 0; t < T; ++t) {
      acc[t] = _mm512_setzero_ps();
      accm[t] = _mm_setzero_ps();
    }
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      x86::prefetch_at<sizeof(Block)>(reinterpret_cast<const char*>(x + i) + stride);
      const __m256i sm = x86::q4k_scales_mins(x[i].scales);
      const __m512i scales = _mm512_castsi256_si512(sm);
      const float dx = x86::f16(x[i].d), dmin = x86::f16(x[i].dmin);
      __m512i sumi[T];
      const __m512i hb = _mm512_broadcast_i64x4(x86::load32(x[i].qh));
      for (int t = 0; t < T; ++t) {
        const __m256i bs = x86::load32(y[t][i].bsums);
        const __m128i ysum32 =
            _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
        const __m128 mins =
            _mm_cvtepi32_ps(_mm_madd_epi16(_mm256_extracti128_si256(sm, 1), ysum32));
        accm[t] = _mm_fmadd_ps(_mm_set1_ps(-dmin * y[t][i].d), mins, accm[t]);
        sumi[t] = _mm512_setzero_si512();
      }
      for (int j = 0; j < 4; ++j) {
        const __m256i bits = x86::load32(x[i].qs + 32 * j);
        const __m512i h = _mm512_and_si512(_mm512_srlv_epi16(hb, shifts(2 * j, 2 * j + 1)), one);
        const __m512i u = _mm512_or_si512(
            _mm512_and_si512(join(bits, _mm256_srli_epi16(bits, 4)), m4), _mm512_slli_epi16(h, 4));
        const __m512i sc = _mm512_permutexvar_epi16(scale_index(2 * j, true), scales);
        for (int t = 0; t < T; ++t) {
          const __m512i p = _mm512_maddubs_epi16(u, load64(y[t][i].qs + 64 * j));
          sumi[t] = _mm512_add_epi32(sumi[t], _mm512_madd_epi16(sc, p));
        }
      }
      for (int t = 0; t < T; ++t) {
        acc[t] =
            _mm512_fmadd_ps(_mm512_set1_ps(dx * y[t][i].d), _mm512_cvtepi32_ps(sumi[t]), acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) {
      __m128 m = _mm_add_ps(accm[t], _mm_movehl_ps(accm[t], accm[t]));
      m = _mm_add_ss(m, _mm_movehdup_ps(m));
      out[t * out_stride] = reduce(acc[t]) + _mm_cvtss_f32(m);
    }
  }
};

// Q2_K, Q3_K and Q6_K share the 16-element sub-block layout: per 128-element half, code
// bits of element 32t + l come from byte l of a 32-byte array shifted by 2t. One register
// takes quarters t = 0,1 (elements 0..63) or 2,3 (64..127) through per-half shift counts.
enum class Kind { kQ2, kQ3, kQ6 };

template <Kind kKind>
struct K16_512 {
  using Block = std::conditional_t<kKind == Kind::kQ2, BlockQ2_K,
                                   std::conditional_t<kKind == Kind::kQ3, BlockQ3_K, BlockQ6_K>>;

  static __m512i sub_scales(const Block* x) {
    if constexpr (kKind == Kind::kQ2) {
      return _mm512_castsi256_si512(
          _mm256_cvtepu8_epi16(_mm_and_si128(x86::load16(x->scales), _mm_set1_epi8(0xF))));
    } else if constexpr (kKind == Kind::kQ3) {
      return _mm512_castsi256_si512(x86::q3k_scales(x->scales));
    } else {
      return _mm512_castsi256_si512(_mm256_cvtepi8_epi16(x86::load16(x->scales)));
    }
  }

  template <int R>
  static void run(const uint8_t* w, size_t stride, int64_t n, const void* act, float* out) {
    const auto* y = static_cast<const BlockQ8_K*>(act);
    const __m512i m3 = _mm512_set1_epi8(3), m4 = _mm512_set1_epi8(0xF), one = _mm512_set1_epi8(1);
    const __m512i c32 = _mm512_set1_epi8(32);
    const __m512i sh01 = shifts(0, 2), sh23 = shifts(4, 6);
    __m512i sidx[4];
    for (int g = 0; g < 4; ++g) sidx[g] = scale_index(4 * g, false);
    __m512 acc[R];
    for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      __m512i sc[R], sumi[R];
      for (int r = 0; r < R; ++r) {
        const Block* x = row_block<Block>(w, stride, r, i);
        x86::prefetch_block<sizeof(Block)>(x, R, stride);
        sc[r] = sub_scales(x);
        sumi[r] = _mm512_setzero_si512();
        if constexpr (kKind == Kind::kQ2) {  // minimum: dmin * sum_sb m[sb] * bsums[sb]
          const __m256i mn = _mm256_cvtepu8_epi16(
              _mm_and_si128(_mm_srli_epi16(x86::load16(x->scales), 4), _mm_set1_epi8(0xF)));
          const __m256 mins = _mm256_cvtepi32_ps(_mm256_madd_epi16(mn, x86::load32(y[i].bsums)));
          acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(-x86::f16(x->dmin) * y[i].d),
                                   _mm512_zextps256_ps512(mins), acc[r]);
        }
      }
      for (int g = 0; g < 4; ++g) {  // elements 64g..64g+63: half g/2, quarters 2(g%2), +1
        const int half = g / 2;
        const __m512i qy = load64(y[i].qs + 64 * g);
        __m512i off = _mm512_setzero_si512();
        if constexpr (kKind == Kind::kQ6) off = _mm512_maddubs_epi16(c32, qy);
        for (int r = 0; r < R; ++r) {
          const Block* x = row_block<Block>(w, stride, r, i);
          __m512i p;
          if constexpr (kKind == Kind::kQ6) {
            const __m512i ql = load64(x->ql + 64 * half);
            const __m512i low = _mm512_and_si512(g % 2 ? _mm512_srli_epi16(ql, 4) : ql, m4);
            const __m512i qh = _mm512_broadcast_i64x4(x86::load32(x->qh + 32 * half));
            const __m512i high = _mm512_and_si512(_mm512_srlv_epi16(qh, g % 2 ? sh23 : sh01), m3);
            const __m512i u = _mm512_or_si512(low, _mm512_slli_epi16(high, 4));
            p = _mm512_sub_epi16(_mm512_maddubs_epi16(u, qy), off);
          } else {
            const __m512i qs = _mm512_broadcast_i64x4(x86::load32(x->qs + 32 * half));
            const __m512i u = _mm512_and_si512(_mm512_srlv_epi16(qs, g % 2 ? sh23 : sh01), m3);
            p = _mm512_maddubs_epi16(u, qy);
            if constexpr (kKind == Kind::kQ3) {
              // hmask bit 4 half + t clear -> subtract 4 (bit moved to bit 2).
              const __m512i nh = _mm512_broadcast_i64x4(
                  _mm256_xor_si256(x86::load32(x->hmask), _mm256_set1_epi8(-1)));
              const __m512i hs = shifts(4 * half + 2 * (g % 2), 4 * half + 2 * (g % 2) + 1);
              const __m512i h =
                  _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(nh, hs), one), 2);
              p = _mm512_sub_epi16(p, _mm512_maddubs_epi16(h, qy));
            }
          }
          sumi[r] = _mm512_add_epi32(
              sumi[r], _mm512_madd_epi16(_mm512_permutexvar_epi16(sidx[g], sc[r]), p));
        }
      }
      for (int r = 0; r < R; ++r) {
        const float d = x86::f16(row_block<Block>(w, stride, r, i)->d) * y[i].d;
        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sumi[r]), acc[r]);
      }
    }
    for (int r = 0; r < R; ++r) out[r] = reduce(acc[r]);
  }

  /// One weight row x T activation rows; see KQ5_K512::run_tokens.
  template <int T>
  static void run_tokens(const uint8_t* w, size_t stride, int64_t n, const uint8_t* acts,
                         size_t act_stride, float* out, size_t out_stride) {
    const auto* x = reinterpret_cast<const Block*>(w);
    const BlockQ8_K* y[T];
    for (int t = 0; t < T; ++t) y[t] = reinterpret_cast<const BlockQ8_K*>(acts + t * act_stride);
    const __m512i m3 = _mm512_set1_epi8(3), m4 = _mm512_set1_epi8(0xF), one = _mm512_set1_epi8(1);
    const __m512i c32 = _mm512_set1_epi8(32);
    const __m512i sh01 = shifts(0, 2), sh23 = shifts(4, 6);
    __m512 acc[T];
    for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
    for (int64_t i = 0; i < n / kQK_K; ++i) {
      x86::prefetch_at<sizeof(Block)>(reinterpret_cast<const char*>(x + i) + stride);
      const __m512i sc = sub_scales(x + i);
      __m512i sumi[T];
      for (int t = 0; t < T; ++t) {
        sumi[t] = _mm512_setzero_si512();
        if constexpr (kKind == Kind::kQ2) {
          const __m256i mn = _mm256_cvtepu8_epi16(
              _mm_and_si128(_mm_srli_epi16(x86::load16(x[i].scales), 4), _mm_set1_epi8(0xF)));
          const __m256 mins = _mm256_cvtepi32_ps(_mm256_madd_epi16(mn, x86::load32(y[t][i].bsums)));
          acc[t] = _mm512_fmadd_ps(_mm512_set1_ps(-x86::f16(x[i].dmin) * y[t][i].d),
                                   _mm512_zextps256_ps512(mins), acc[t]);
        }
      }
      for (int g = 0; g < 4; ++g) {
        const int half = g / 2;
        __m512i u, h = _mm512_setzero_si512();
        if constexpr (kKind == Kind::kQ6) {
          const __m512i ql = load64(x[i].ql + 64 * half);
          const __m512i low = _mm512_and_si512(g % 2 ? _mm512_srli_epi16(ql, 4) : ql, m4);
          const __m512i qh = _mm512_broadcast_i64x4(x86::load32(x[i].qh + 32 * half));
          const __m512i high = _mm512_and_si512(_mm512_srlv_epi16(qh, g % 2 ? sh23 : sh01), m3);
          u = _mm512_or_si512(low, _mm512_slli_epi16(high, 4));
        } else {
          const __m512i qs = _mm512_broadcast_i64x4(x86::load32(x[i].qs + 32 * half));
          u = _mm512_and_si512(_mm512_srlv_epi16(qs, g % 2 ? sh23 : sh01), m3);
          if constexpr (kKind == Kind::kQ3) {
            const __m512i nh = _mm512_broadcast_i64x4(
                _mm256_xor_si256(x86::load32(x[i].hmask), _mm256_set1_epi8(-1)));
            const __m512i hs = shifts(4 * half + 2 * (g % 2), 4 * half + 2 * (g % 2) + 1);
            h = _mm512_slli_epi16(_mm512_and_si512(_mm512_srlv_epi16(nh, hs), one), 2);
          }
        }
        const __m512i scg = _mm512_permutexvar_epi16(scale_index(4 * g, false), sc);
        for (int t = 0; t < T; ++t) {
          const __m512i qy = load64(y[t][i].qs + 64 * g);
          __m512i p = _mm512_maddubs_epi16(u, qy);
          if constexpr (kKind == Kind::kQ6) p = _mm512_sub_epi16(p, _mm512_maddubs_epi16(c32, qy));
          if constexpr (kKind == Kind::kQ3) p = _mm512_sub_epi16(p, _mm512_maddubs_epi16(h, qy));
          sumi[t] = _mm512_add_epi32(sumi[t], _mm512_madd_epi16(scg, p));
        }
      }
      const float dx = x86::f16(x[i].d);
      for (int t = 0; t < T; ++t) {
        acc[t] =
            _mm512_fmadd_ps(_mm512_set1_ps(dx * y[t][i].d), _mm512_cvtepi32_ps(sumi[t]), acc[t]);
      }
    }
    for (int t = 0; t < T; ++t) out[t * out_stride] = reduce(acc[t]);
  }
};

namespace plain {
#define MOE_VNNI 0
#include "core/quant/vec_dot_kquant_avx512_q4k.inc"
#undef MOE_VNNI
}  // namespace plain

#pragma GCC push_options
#pragma GCC target("avx512vnni")
namespace vnni {
#define MOE_VNNI 1
#include "core/quant/vec_dot_kquant_avx512_q4k.inc"
#undef MOE_VNNI
}  // namespace vnni
#pragma GCC pop_options

}  // namespace

void register_avx512_kquant(KernelTable& t) {
  x86::set_kernel<K16_512<Kind::kQ2>, 4>(t, GgmlType::Q2_K);
  x86::set_kernel<K16_512<Kind::kQ3>, 4>(t, GgmlType::Q3_K);
  x86::set_kernel<KQ5_K512, 4>(t, GgmlType::Q5_K);
  x86::set_kernel<K16_512<Kind::kQ6>, 4>(t, GgmlType::Q6_K);
  x86::set_matmul<K16_512<Kind::kQ2>>(t, GgmlType::Q2_K);
  x86::set_matmul<K16_512<Kind::kQ3>>(t, GgmlType::Q3_K);
  if (cpu_features().avx512vnni && vnni_allowed()) {
    vnni::register_q4k(t);
  } else {
    plain::register_q4k(t);
  }
  x86::set_matmul<KQ5_K512>(t, GgmlType::Q5_K);
  x86::set_matmul<K16_512<Kind::kQ6>>(t, GgmlType::Q6_K);
}

}  // namespace moe::kern
