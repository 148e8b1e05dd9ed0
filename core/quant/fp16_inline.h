#pragma once
// Inline half / bfloat16 conversions for the scalar kernels (the public, out-of-line versions
// are in core/quant/quant.h). Results are bit-identical to ggml's GGML_FP16_TO_FP32,
// GGML_FP32_TO_FP16 and GGML_FP32_TO_BF16; tests/core/quant/dequant_test.cpp checks them
// exhaustively and against numpy. MOE_HD: the CUDA kernels (core/cuda/) decode block scales
// with the same functions.
#include <bit>
#include <cstdint>

#include "core/quant/hd.h"

namespace moe::fp16 {
// Internal linkage on purpose: files built with AVX2/AVX-512 flags may include this header, and a
// shared (COMDAT) copy of an inline function could then be an AVX build run on any CPU.
namespace {

/// IEEE half -> float, exact. Branch-free: normals are rebiased by a multiply by 2^-112, half
/// subnormals are built as (0.5 + m*2^-24) - 0.5 in the float domain. No float subnormal is ever
/// produced or consumed, so it is exact under FTZ/DAZ too. NaN keeps its payload and is quieted
/// (as the hardware F16C instruction and ggml's table do).
MOE_HD float to_fp32(uint16_t h) {
  const uint32_t w = static_cast<uint32_t>(h) << 16;
  const uint32_t sign = w & 0x80000000u;
  const uint32_t two_w = w + w;  // exponent and mantissa, sign shifted out
  const float normalized = hd::bits_to_float((two_w >> 4) + (0xE0u << 23)) * 0x1.0p-112f;
  const float denormalized = hd::bits_to_float((two_w >> 17) | (126u << 23)) - 0.5f;
  const uint32_t mag = two_w < (1u << 27) ? hd::float_to_bits(denormalized)
                                          : hd::float_to_bits(normalized);
  return hd::bits_to_float(sign | mag);
}

/// float -> IEEE half, round to nearest even; overflow -> inf; NaN -> sign | 0x7E00 (ggml).
/// Integer-only, so independent of the FP environment.
MOE_HD uint16_t from_fp32(float f) {
  const uint32_t u = hd::float_to_bits(f);
  const uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7E00u;   // NaN
  if (a >= 0x477ff000u) return sign | 0x7C00u;  // >= 65520 rounds to inf (65504 is odd)
  if (a >= 0x38800000u) {                       // half normal range, >= 2^-14
    uint32_t h = (a - 0x38000000u) >> 13;       // rebias exponent 127 -> 15
    const uint32_t rem = a & 0x1fffu;
    h += (rem > 0x1000u) | ((rem == 0x1000u) & (h & 1u));  // carry may bump the exponent: fine
    return static_cast<uint16_t>(sign | h);
  }
  if (a <= 0x33000000u) return sign;  // <= 2^-25 (a tie) rounds to zero
  // Half subnormal: q = mant * 2^(exp-150) / 2^-24 = mant >> (126 - exp), rounded to even.
  const uint32_t exp = a >> 23;
  const uint32_t mant = (a & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126u - exp;  // 14..24
  uint32_t q = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1u);
  q += (rem > half) | ((rem == half) & (q & 1u));  // may become 0x400, the smallest normal
  return static_cast<uint16_t>(sign | q);
}

/// bfloat16 -> float: the top half of the float's bits.
inline float bf16_to_fp32(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

/// float -> bfloat16 as ggml_compute_fp32_to_bf16: NaN keeps its top bits and is forced quiet
/// (| 0x40); everything else rounds to nearest even (overflow rounds to inf).
inline uint16_t bf16_from_fp32(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 64u);
  return static_cast<uint16_t>((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}

}  // namespace
}  // namespace moe::fp16
