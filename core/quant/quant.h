#pragma once
// Row-level operations on quantized tensors. Weights are rows of n elements (n a multiple of
// the type's block size); activations are quantized once per row vector to the weight type's
// "dot type" (Q8_0 for the 32-element formats, Q8_K for K-quants, F32 for float weights) and
// then dotted with integer arithmetic. Every op has a portable scalar path; AVX2 and AVX-512
// paths are chosen at run time (core/quant/cpu_features.h).
#include <cstddef>
#include <cstdint>

#include "core/quant/types.h"

namespace moe {

/// x[n] -> raw half/bfloat16 bits and back (round-to-nearest-even, as ggml).
uint16_t fp32_to_fp16(float x);
float fp16_to_fp32(uint16_t h);
uint16_t fp32_to_bf16(float x);
float bf16_to_fp32(uint16_t h);

/// dst[n] = dequantized src row. Bit-exact with ggml / the gguf package. Types: F32, F16,
/// BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K.
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

/// Reference quantizer: src[n] -> dst (row_bytes(type, n) bytes). Used by the GGUF writer,
/// the model generator and tests. Returns false for types it cannot produce.
bool quantize_row(GgmlType type, const float* src, void* dst, int64_t n);

/// The activation type a weight type is dotted with (Q8_0, Q8_K or F32).
GgmlType vec_dot_type(GgmlType weight_type);

/// Quantizes an activation row for dot products with weights of `weight_type`:
/// dst holds row_bytes(vec_dot_type(weight_type), n) bytes.
void quantize_activation(GgmlType weight_type, const float* x, void* dst, int64_t n);

/// Dot product of one weight row (weight_type, n elements) with one prepared activation row.
float vec_dot(GgmlType weight_type, int64_t n, const void* w_row, const void* act);

/// out[r - row_begin] = dot(row r, act) for r in [row_begin, row_end): a matrix-vector product
/// over rows `row_stride` bytes apart. The decode hot loop; no allocation.
void matvec_rows(GgmlType weight_type, const void* w, size_t row_stride, int64_t n,
                 int64_t row_begin, int64_t row_end, const void* act, float* out);

/// Batched matvec_rows for prefill: n_tokens prepared activation rows, `act_stride` bytes
/// apart, each dotted with rows [row_begin, row_end). out[t * out_stride + (r - row_begin)]
/// (out_stride in floats). Rows are walked in cache-sized tiles so that each weight byte is
/// read from memory once per tile and reused from cache for every token.
void matmul_rows(GgmlType weight_type, const void* w, size_t row_stride, int64_t n,
                 int64_t row_begin, int64_t row_end, const void* acts, size_t act_stride,
                 int64_t n_tokens, float* out, size_t out_stride);

}  // namespace moe
