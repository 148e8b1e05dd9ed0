#pragma once
// The CUDA kernels of the expert executor (core/cuda/*.cu) and their CPU twins. Every launcher
// in moe::cuda takes device pointers and a stream and returns once the work is queued; its twin
// in moe::cuda::twin has the same parameters (less the stream) over host pointers and computes
// what the kernel computes, so a parity test at several sizes (tests/core/cuda) pins each
// kernel down. The twins are built in every configuration; the launchers only with the CUDA
// backend (MOE_HAVE_CUDA). Launch errors throw CudaError (cuda_error.h).
//
// Shapes: weights are rows of n elements, row_stride bytes apart; activations are prepared
// once per vector (Q8_0 blocks for Q4_0 / Q8_0 weights, Q8_K for the K-quants, as the CPU
// kernels, core/quant/quant.h); the block maths is core/quant/block_dot.h, shared with the CPU.
#include <cstddef>
#include <cstdint>

#include "core/quant/types.h"

struct CUstream_st;  // cudaStream_t without including the CUDA headers

namespace moe::cuda {

using Stream = CUstream_st*;

/// Weight types with a CUDA mat-vec (Q4_0, Q8_0, Q4_K, Q6_K).
bool has_matvec(GgmlType type);

// Launchers (device pointers). ------------------------------------------------------------

/// out[r] = dot(row r, act) for r < nrows. One warp per row; each lane sums 32-element chunks
/// (block_dot.h Chunk) strided by 32, then a warp reduction.
void matvec(GgmlType type, const void* w, size_t row_stride, int64_t n, int64_t nrows,
            const void* act, float* out, Stream s);
/// x[n] -> dst, the activation for weights of `weight_type` (Q8_0 or Q8_K blocks), the same
/// bytes as the CPU's quantize_activation (ggml quantize_row_q8_0 / q8_K).
void quantize_act(GgmlType weight_type, const float* x, void* dst, int64_t n, Stream s);
/// out[n] = x / sqrt(mean(x²) + eps) * w (sum of squares in double, as the CPU).
void rms_norm(const float* x, const float* w, float eps, int n, float* out, Stream s);
/// Rotates interleaved pairs of the first n_rot dims of n_heads heads (head_dim apart) by the
/// angles cos_sin[2i], cos_sin[2i+1] (ops::rope_angles, computed on the host in double).
void rope(float* x, int n_heads, int head_dim, int n_rot, const float* cos_sin, Stream s);
/// h[i] = silu(gate[i]) * up[i], i < n (the experts' SwiGLU).
void swiglu(const float* gate, const float* up, float* h, int64_t n, Stream s);
/// Mixtral routing of one token: the k largest of logits[n_expert] (ties -> lower index), in
/// descending order, and their softmax weights. k <= 8.
void router_topk(const float* logits, int n_expert, int k, int32_t* ids, float* weights, Stream s);
/// Decode attention of one query token over n_pos cached positions (grouped-query: head h
/// reads KV head h / (n_head / n_head_kv)). q [n_head, hd]; k, v [n_pos, kv_stride] with head
/// j at j * hd; scratch [n_head, n_pos]; out [n_head, hd].
void attention_decode(const float* q, const float* k, const float* v, size_t kv_stride, int n_pos,
                      int n_head, int n_head_kv, int hd, float scale, float* scratch, float* out,
                      Stream s);
/// out[i] += w * y[i], i < n (WDMoE eq. 1: the weighted expert outputs).
void add_scaled(float* out, const float* y, float w, int64_t n, Stream s);
/// out[r * n + i] = fp16(element i of row r), r < nrows: an [nrows, n] f16 tile for cuBLAS,
/// each value dequantized bit-exactly as ggml (Chunk<W>::value) then rounded to half (RNE).
void dequant_f16(GgmlType type, const void* w, size_t row_stride, int64_t n, int64_t nrows,
                 uint16_t* out, Stream s);
/// out[i * n + j] = fp16(x[rows[i] * n + j]), i < n_rows: a group's token rows as f16
/// (rows == nullptr: row i itself).
void gather_f16(const float* x, const int32_t* rows, int n_rows, int64_t n, uint16_t* out,
                Stream s);
/// out[rows[i] * n + j] += w[i] * y[i * n + j], i < n_rows (distinct rows: a group's tokens).
void scatter_add_scaled(float* out, const float* y, const int32_t* rows, const float* w, int n_rows,
                        int64_t n, Stream s);

namespace twin {

void matvec(GgmlType type, const void* w, size_t row_stride, int64_t n, int64_t nrows,
            const void* act, float* out);
void quantize_act(GgmlType weight_type, const float* x, void* dst, int64_t n);
void rms_norm(const float* x, const float* w, float eps, int n, float* out);
void rope(float* x, int n_heads, int head_dim, int n_rot, const float* cos_sin);
void swiglu(const float* gate, const float* up, float* h, int64_t n);
void router_topk(const float* logits, int n_expert, int k, int32_t* ids, float* weights);
void attention_decode(const float* q, const float* k, const float* v, size_t kv_stride, int n_pos,
                      int n_head, int n_head_kv, int hd, float scale, float* scratch, float* out);
void add_scaled(float* out, const float* y, float w, int64_t n);
void dequant_f16(GgmlType type, const void* w, size_t row_stride, int64_t n, int64_t nrows,
                 uint16_t* out);
void gather_f16(const float* x, const int32_t* rows, int n_rows, int64_t n, uint16_t* out);
void scatter_add_scaled(float* out, const float* y, const int32_t* rows, const float* w, int n_rows,
                        int64_t n);

}  // namespace twin
}  // namespace moe::cuda
