#include "core/engine/parallel_matmul.h"

#include <algorithm>

#include "core/quant/quant.h"
#include "core/util/check.h"

namespace moe {

int64_t rows_per_task(int64_t n_rows, int n_threads, int64_t n_tokens, int64_t min_rows) {
  const int64_t target_tasks = int64_t{n_threads} * (n_tokens > 1 ? 4 : 1);
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
  int64_t total_rows = 0;
  for (const MatmulJob& j : jobs) total_rows += j.w->n_out;
  const int64_t chunk = rows_per_task(total_rows, pool.size(), n_tokens);
  int64_t first_task[kMaxJobs + 1] = {0};
  for (size_t i = 0; i < jobs.size(); ++i) {
    first_task[i + 1] = first_task[i] + (jobs[i].w->n_out + chunk - 1) / chunk;
  }
  pool.parallel_for(first_task[jobs.size()], [&](int64_t task, int) {
    size_t j = 0;
    while (task >= first_task[j + 1]) ++j;
    const MatrixView& w = *jobs[j].w;
    const int64_t r0 = (task - first_task[j]) * chunk, r1 = std::min(w.n_out, r0 + chunk);
    rows(w, r0, r1, act, act_stride, n_tokens, jobs[j].out, jobs[j].out_stride);
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
