#pragma once
// Multithreaded building blocks of the forward pass on top of core/quant: quantize a batch of
// activation rows once, then multiply them with a weight matrix whose rows are split across
// the thread pool (each task streams a slice of rows once for all tokens, matmul_rows).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/engine/thread_pool.h"
#include "core/model/memory_plan.h"  // max_act_row_bytes
#include "core/model/model.h"

namespace moe {

/// dst[t] = quantize_activation(weight_type, x[t]) for t < n_rows; rows `x_stride` floats and
/// `dst_stride` bytes apart. Parallel over rows when there are several.
void quantize_rows(ThreadPool& pool, GgmlType weight_type, const float* x, size_t x_stride,
                   int64_t n_rows, int64_t n, uint8_t* dst, size_t dst_stride);

/// out[t * out_stride + r] = dot(w row r, act[t]) for r < w.n_out, t < n_tokens: [n_tokens,
/// n_out]. `act` rows prepared by quantize_rows for w.type, `act_stride` bytes apart.
void parallel_matmul(ThreadPool& pool, const MatrixView& w, const uint8_t* act, size_t act_stride,
                     int64_t n_tokens, float* out, size_t out_stride);

/// One product of a fused dispatch: out = act · wᵀ, [n_tokens, w.n_out] with out_stride.
struct MatmulJob {
  const MatrixView* w = nullptr;
  float* out = nullptr;
  size_t out_stride = 0;
};

/// Several products over the same prepared activations in one dispatch (Q, K and V): fewer
/// synchronisations per decoded token. Every w must share the same vec_dot_type.
void parallel_matmuls(ThreadPool& pool, std::span<const MatmulJob> jobs, const uint8_t* act,
                      size_t act_stride, int64_t n_tokens);

/// Rows per task, each at least `min_rows`. One token (decode): one task per thread, so each
/// thread streams one long run of rows (every task start costs a DRAM latency before the
/// prefetch is ahead; mixtral-mini decode measured 5-7 % faster than with 4 tasks per thread).
/// Several tokens (prefill, compute-heavier): 4 tasks per thread for dynamic balancing (3-5 %
/// faster prompt processing than 1).
int64_t rows_per_task(int64_t n_rows, int n_threads, int64_t n_tokens, int64_t min_rows = 8);

}  // namespace moe
