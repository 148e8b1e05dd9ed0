#pragma once
// Block layouts of the quantized formats, byte-for-byte as ggml stores them (ggml-common.h).
// Values: x = d * q (symmetric) or x = d * q + m (with a minimum); K-quants group 256 values
// into a super-block with 6/4-bit sub-block scales.
#include <cstdint>

namespace moe {

using f16_bits = uint16_t;  ///< IEEE half, raw bits
using bf16_bits = uint16_t;  ///< bfloat16, raw bits

constexpr int kQK4_0 = 32, kQK4_1 = 32, kQK5_0 = 32, kQK5_1 = 32, kQK8_0 = 32, kQK8_1 = 32;
constexpr int kQK_K = 256;
constexpr int kKScaleSize = 12;

struct BlockQ4_0 { f16_bits d; uint8_t qs[kQK4_0 / 2]; };
struct BlockQ4_1 { f16_bits d, m; uint8_t qs[kQK4_1 / 2]; };
struct BlockQ5_0 { f16_bits d; uint8_t qh[4]; uint8_t qs[kQK5_0 / 2]; };
struct BlockQ5_1 { f16_bits d, m; uint8_t qh[4]; uint8_t qs[kQK5_1 / 2]; };
struct BlockQ8_0 { f16_bits d; int8_t qs[kQK8_0]; };
struct BlockQ8_1 { f16_bits d, s; int8_t qs[kQK8_1]; };  ///< s = d * sum(qs)

struct BlockQ2_K { uint8_t scales[kQK_K / 16]; uint8_t qs[kQK_K / 4]; f16_bits d, dmin; };
struct BlockQ3_K { uint8_t hmask[kQK_K / 8]; uint8_t qs[kQK_K / 4]; uint8_t scales[12]; f16_bits d; };
struct BlockQ4_K { f16_bits d, dmin; uint8_t scales[kKScaleSize]; uint8_t qs[kQK_K / 2]; };
struct BlockQ5_K { f16_bits d, dmin; uint8_t scales[kKScaleSize]; uint8_t qh[kQK_K / 8]; uint8_t qs[kQK_K / 2]; };
struct BlockQ6_K { uint8_t ql[kQK_K / 2]; uint8_t qh[kQK_K / 4]; int8_t scales[kQK_K / 16]; f16_bits d; };
/// Activation block for K-quant dot products: float scale, 256 int8, sums of each 16.
struct BlockQ8_K { float d; int8_t qs[kQK_K]; int16_t bsums[kQK_K / 16]; };

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22 &&
              sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144 &&
              sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);

}  // namespace moe
