#pragma once
// AVX2 helpers shared by the *_avx2.cpp and *_avx512.cpp kernels. Include ONLY from translation
// units compiled with the AVX2 flags (the file-name suffix gives them).
// GCC 12's AVX-512 intrinsics use self-initialised "undefined" registers that trip
// -Wuninitialized once inlined (a known false positive, GCC PR 105593); the warning's location
// is inside the intrinsic headers, so it is silenced from here on for the including file.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "core/quant/kernels.h"

namespace moe::kern::x86 {
// Internal linkage on purpose: the AVX2 and AVX-512 files each get their own copy, so the
// linker can never hand an AVX-512-compiled helper to the AVX2 path (ODR across ISA flags).
namespace {

inline float f16(uint16_t h) {
  return _cvtsh_ss(h);
}

/// Element j of a row of a float weight type (F32, F16 or BF16), for the scalar tails.
template <GgmlType T>
inline float float_weight(const uint8_t* row, int64_t j) {
  if constexpr (T == GgmlType::F32) {
    float v;
    std::memcpy(&v, row + 4 * j, 4);
    return v;
  } else {
    uint16_t h;
    std::memcpy(&h, row + 2 * j, 2);
    return T == GgmlType::F16 ? f16(h) : bf16_bits_to_float(h);
  }
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
inline __m128i load16(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}

/// unsigned u8 x signed s8 -> 8 int32 lanes, each the sum of 4 adjacent products.
inline __m256i dot_u8s8(__m256i u, __m256i s) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

/// signed x signed: |x| * (y * sign(x)) keeps maddubs' unsigned operand non-negative.
inline __m256i dot_s8s8(__m256i x, __m256i y) {
  return dot_u8s8(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x));
}

/// 16 bytes of packed nibbles -> 32 bytes: low nibbles in bytes 0..15, high in 16..31.
inline __m256i unpack_nibbles16(const uint8_t* p) {
  const __m128i t = load16(p);
  const __m256i v = _mm256_set_m128i(_mm_srli_epi16(t, 4), t);
  return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/// 32 bits -> 32 bytes, byte i = 0xFF if bit i is set.
inline __m256i bytes_from_bits32(const uint8_t* p) {
  uint32_t x;
  std::memcpy(&x, p, 4);
  const __m256i shuf = _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                          0x0202020202020202, 0x0303030303030303);
  __m256i bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(x)), shuf);
  bytes = _mm256_or_si256(bytes, _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
  return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}

/// Shuffle control that, applied to 8 int16 broadcast into both 128-bit lanes, yields
/// int16 #2k in the low lane and #2k+1 in the high lane (k = 0..3): the scales of two
/// consecutive 16-element sub-blocks for one maddubs result.
inline __m256i pair_scale_shuffle(int k) {
  const short lo = static_cast<short>(((4 * k + 1) << 8) | (4 * k));
  const short hi = static_cast<short>(((4 * k + 3) << 8) | (4 * k + 2));
  return _mm256_setr_epi16(lo, lo, lo, lo, lo, lo, lo, lo, hi, hi, hi, hi, hi, hi, hi, hi);
}

/// Shuffle control broadcasting int16 #k (0..7) of each 128-bit lane.
inline __m256i one_scale_shuffle(int k) {
  return _mm256_set1_epi16(static_cast<short>(((2 * k + 1) << 8) | (2 * k)));
}

/// Low / high 128-bit half of v copied into both lanes.
inline __m256i bcast_lo(__m256i v) {
  return _mm256_permute2x128_si256(v, v, 0x00);
}
inline __m256i bcast_hi(__m256i v) {
  return _mm256_permute2x128_si256(v, v, 0x11);
}

// Q3_K packed scales -> 16 int16 (value - 32), via the 32-bit mask shuffle of ggml.
inline __m256i q3k_scales(const uint8_t* packed) {
  uint32_t aux[3], s[4];
  std::memcpy(aux, packed, 12);
  const uint32_t k1 = 0x03030303, k2 = 0x0f0f0f0f;
  s[0] = (aux[0] & k2) | (((aux[2] >> 0) & k1) << 4);
  s[1] = (aux[1] & k2) | (((aux[2] >> 2) & k1) << 4);
  s[2] = ((aux[0] >> 4) & k2) | (((aux[2] >> 4) & k1) << 4);
  s[3] = ((aux[1] >> 4) & k2) | (((aux[2] >> 6) & k1) << 4);
  // Built in registers, not stored and reloaded: a 16-byte load of four fresh 4-byte stores
  // misses store-to-load forwarding and stalls.
  const __m128i packed4 = _mm_setr_epi32(static_cast<int>(s[0]), static_cast<int>(s[1]),
                                         static_cast<int>(s[2]), static_cast<int>(s[3]));
  const __m128i v = _mm_sub_epi8(packed4, _mm_set1_epi8(32));
  return _mm256_cvtepi8_epi16(v);
}

// Q4_K / Q5_K packed 6-bit scales and mins -> 16 int16: lanes 0-7 scales, 8-15 mins
// (ggml get_scale_min_k4, in registers), from a register whose bytes kOff..kOff+11 are the 12
// packed bytes q (kOff = 4: the block's first 16 bytes d, dmin, scales, loaded as one).
//   sc[j] = q[j] & 63,                       m[j] = q[j + 4] & 63                  (j < 4)
//   sc[j] = (q[j + 4] & 15) | (q[j - 4] >> 6) << 4,  m[j] = (q[j + 4] >> 4) | (q[j] >> 6) << 4
template <int kOff>
inline __m256i q4k_scales_mins_in(__m128i v) {
  constexpr char o = kOff;
  const __m128i a = _mm_shuffle_epi8(v, _mm_setr_epi8(o, o + 1, o + 2, o + 3, o + 8, o + 9, o + 10,
                                                      o + 11, o + 4, o + 5, o + 6, o + 7, o + 8,
                                                      o + 9, o + 10, o + 11));
  const __m128i b = _mm_shuffle_epi8(
      v, _mm_setr_epi8(-1, -1, -1, -1, o, o + 1, o + 2, o + 3, -1, -1, -1, -1, o + 4, o + 5, o + 6,
                       o + 7));
  const __m128i low_mask =
      _mm_setr_epi8(63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0);
  const __m128i hi_nib = _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15);
  const __m128i low =
      _mm_or_si128(_mm_and_si128(a, low_mask), _mm_and_si128(_mm_srli_epi16(a, 4), hi_nib));
  const __m128i high = _mm_and_si128(_mm_srli_epi16(b, 2), _mm_set1_epi8(0x30));  // bits 6-7 -> 4-5
  return _mm256_cvtepu8_epi16(_mm_or_si128(low, high));
}

/// The same from the 12 packed bytes at `packed` (reads 16: the 4 past the scales are the
/// block's own qs, so the over-read stays inside the block).
inline __m256i q4k_scales_mins(const uint8_t* packed) {
  return q4k_scales_mins_in<0>(load16(packed));
}

/// Software prefetch for the weight stream. A matvec over rows that lie back to back in memory
/// is one long sequential stream when rows are read one at a time, but R rows read together
/// are R short streams (one row: a few KiB) that the hardware prefetcher must re-learn at each
/// row group; measured on the reference machine that halved the bandwidth of 4-row kernels.
/// So while reading block i of rows r..r+R-1 we prefetch block i of rows r+R..r+2R-1 (the
/// next group, R * stride bytes ahead), and a single row looks kPrefetchAhead bytes ahead.
/// Short rows (n_embd 1024: a Q4 row is 576 bytes) would put the next group only ~2 KiB
/// ahead, less than the bytes in flight during one DRAM latency at full bandwidth (~100 ns x
/// 40 GB/s = 4 KiB), which cost a third of the bandwidth; so the distance is a whole number of
/// groups (same block position, same rows mod R) of at least kMinGroupAhead bytes. (The
/// division is loop-invariant and compiled out of the kernels' loops; a while loop of
/// additions instead was not, and cost a third of the speed.)
constexpr size_t kPrefetchAhead = 1024;
constexpr size_t kMinGroupAhead = 8192;
template <size_t kBlockBytes>
inline void prefetch_block(const void* block, int rows, size_t stride) {
  size_t ahead = kPrefetchAhead;
  if (rows > 1) {
    const size_t group = static_cast<size_t>(rows) * stride;
    ahead = group * ((kMinGroupAhead + group - 1) / group);
  }
  const char* p = static_cast<const char*>(block) + ahead;
  for (size_t off = 0; off < kBlockBytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

/// Prefetch kBytes starting at p (the token-batched kernels fetch the next row's block: one
/// row of work ahead).
template <size_t kBytes>
inline void prefetch_at(const char* p) {
  for (size_t off = 0; off < kBytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

}  // namespace
}  // namespace moe::kern::x86
