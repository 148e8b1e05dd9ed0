#pragma once
// Internal: the per-type scalar reference kernels behind dequantize_row / quantize_row
// (core/quant/quant.h). Each follows the ggml-quants.c function of the same name operation for
// operation, so that results are bit-identical. k is the element count (multiple of the block).
#include <cstdint>

#include "core/quant/block_dot.h"
#include "core/quant/blocks.h"

namespace moe::ref {

// Dequantization (dequant_legacy.cpp, dequant_k.cpp).
void dequantize_row_q4_0(const BlockQ4_0* x, float* y, int64_t k);
void dequantize_row_q4_1(const BlockQ4_1* x, float* y, int64_t k);
void dequantize_row_q5_0(const BlockQ5_0* x, float* y, int64_t k);
void dequantize_row_q5_1(const BlockQ5_1* x, float* y, int64_t k);
void dequantize_row_q8_0(const BlockQ8_0* x, float* y, int64_t k);
void dequantize_row_q2_K(const BlockQ2_K* x, float* y, int64_t k);
void dequantize_row_q3_K(const BlockQ3_K* x, float* y, int64_t k);
void dequantize_row_q4_K(const BlockQ4_K* x, float* y, int64_t k);
void dequantize_row_q5_K(const BlockQ5_K* x, float* y, int64_t k);
void dequantize_row_q6_K(const BlockQ6_K* x, float* y, int64_t k);
void dequantize_row_q8_K(const BlockQ8_K* x, float* y, int64_t k);

// Reference quantizers (quantize_legacy.cpp, quantize_k.cpp): ggml's quantize_row_*_ref.
void quantize_row_q4_0(const float* x, BlockQ4_0* y, int64_t k);
void quantize_row_q4_1(const float* x, BlockQ4_1* y, int64_t k);
void quantize_row_q5_0(const float* x, BlockQ5_0* y, int64_t k);
void quantize_row_q5_1(const float* x, BlockQ5_1* y, int64_t k);
void quantize_row_q8_0(const float* x, BlockQ8_0* y, int64_t k);
void quantize_row_q2_K(const float* x, BlockQ2_K* y, int64_t k);
void quantize_row_q3_K(const float* x, BlockQ3_K* y, int64_t k);
void quantize_row_q4_K(const float* x, BlockQ4_K* y, int64_t k);
void quantize_row_q5_K(const float* x, BlockQ5_K* y, int64_t k);
void quantize_row_q6_K(const float* x, BlockQ6_K* y, int64_t k);

/// K-quant 6-bit scale/min pair j (0..7) of a Q4_K / Q5_K block (ggml get_scale_min_k4; one
/// definition for the CPU and CUDA kernels in block_dot.h).
using blockdot::get_scale_min_k4;

}  // namespace moe::ref
