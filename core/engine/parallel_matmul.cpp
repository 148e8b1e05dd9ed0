#include "core/engine/parallel_matmul.h"

#include <algorithm>

#include "core/quant/quant.h"
#include "core/util/check.h"

namespace moe {

int64_t rows_per_task(int64_t n_rows, int n_threads, int64_t n_tokens, int64_t min_rows) {
  // Several tasks per thread: the pool gives each thread a contiguous share and lets threads
  // that finish steal from the others, so a worker descheduled by another process holds up at
  // most one task. Decode tasks are single-token matvecs, cheap to cut finer.
  const int64_t target_tasks = int64_t{n_threads} * (n_tokens > 1 ? 4 : 8);
  int64_t rows = (n_rows + target_tasks - 1) / target_tasks;
  rows = std::max(rows, min_rows);
  return std::min(rows, std::max<int64_t>(n_rows, 1));
}

void quantize_rows(ThreadPool& pool, GgmlType weight_type, const float* x, size_t x_stride,
                   int64_t n_rows, int64_t n, uint8_t* dst, size_t dst_stride) {
  const auto one = [&](int64_t t, int) {
    quantize_activation(weight_type, x + static_cast<size_t>(t) * x_stride,
                        dst + static_cast<size_t>(t) * dst_stride, n);
  };
  // A few thousand elements (the 2 expert rows of a decode step: 2 x n_ff) quantize in about
  // a microsecond, less than a dispatch and its barrier cost.
  constexpr int64_t kSerialElements = 16384;
  if (n_rows * n <= kSerialElements) {
    for (int64_t t = 0; t < n_rows; ++t) one(t, 0);
    return;
  }
  pool.parallel_for(n_rows, [&](int64_t t, int thread) { one(t, thread); });
}

namespace {
void rows(const MatrixView& w, int64_t r0, int64_t r1, const uint8_t* act, size_t act_stride,
          int64_t n_tokens, float* out, size_t out_stride) {
  if (n_tokens == 1) {
    matvec_rows(w.type, w.data, w.row_stride, w.n_in, r0, r1, act, out + r0);
  } else {
    matmul_rows(w.type, w.data, w.row_stride, w.n_in, r0, r1, act, act_stride, n_tokens, out + r0,
                out_stride);
  }
}
}  // namespace

void parallel_matmuls(ThreadPool& pool, std::span<const MatmulJob> jobs, const uint8_t* act,
                      size_t act_stride, int64_t n_tokens) {
  constexpr size_t kMaxJobs = 4;
  MOE_CHECK(jobs.size() <= kMaxJobs, "parallel_matmuls: too many jobs");
  // Tasks are ranges of the jobs' rows taken end to end, so a task may finish one matrix and
  // start the next: with one token each thread gets one equal share (Q/K/V of a decode step:
  // Q's first half, then Q's second half + K + V, which lie back to back in a GGUF file: one
  // stream per thread instead of a cold start per matrix).
  int64_t first_row[kMaxJobs + 1] = {0};
  for (size_t i = 0; i < jobs.size(); ++i) first_row[i + 1] = first_row[i] + jobs[i].w->n_out;
  const int64_t total_rows = first_row[jobs.size()];
  const int64_t chunk = rows_per_task(total_rows, pool.size(), n_tokens);
  const int64_t n_tasks = (total_rows + chunk - 1) / chunk;
  pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t g0 = task * chunk, g1 = std::min(total_rows, g0 + chunk);
    for (size_t j = 0; j < jobs.size(); ++j) {
      const int64_t r0 = std::max(g0, first_row[j]) - first_row[j];
      const int64_t r1 = std::min(g1, first_row[j + 1]) - first_row[j];
      if (r0 < r1) {
        rows(*jobs[j].w, r0, r1, act, act_stride, n_tokens, jobs[j].out, jobs[j].out_stride);
      }
    }
  });
}

void parallel_matmul(ThreadPool& pool, const MatrixView& w, const uint8_t* act, size_t act_stride,
                     int64_t n_tokens, float* out, size_t out_stride) {
  const int64_t chunk = rows_per_task(w.n_out, pool.size(), n_tokens);
  const int64_t n_tasks = (w.n_out + chunk - 1) / chunk;
  pool.parallel_for(n_tasks, [&](int64_t task, int) {
    const int64_t r0 = task * chunk, r1 = std::min(w.n_out, r0 + chunk);
    rows(w, r0, r1, act, act_stride, n_tokens, out, out_stride);
  });
}

}  // namespace moe
