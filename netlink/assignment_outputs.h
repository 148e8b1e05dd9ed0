#pragma once
// Each assignment's own expert output y (not the weighted sum): what a device returns and what
// the host computes for the share no device took. The CPU executor runs them as batches of one
// row per assignment with weight 1 (out = 0 + 1 * y = y exactly, same kernels per row), so the
// host's sum of w * y in assignment order is bit-identical to a local run.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/engine_api/expert_executor.h"

namespace moe::net {

/// Reused buffers of expert_outputs (grown on first use).
struct AssignmentScratch {
  std::vector<float> x, y;
  std::vector<ExpertAssignment> assign;
};

/// For i in [0, n): writes y_i = expert(i) applied to row(i) (n_embd floats) to out(i), in
/// executor calls of at most max_rows rows.
Status expert_outputs(ExpertExecutor& executor, int layer, size_t n_embd, size_t n,
                      size_t max_rows, const std::function<const float*(size_t)>& row,
                      const std::function<int32_t(size_t)>& expert,
                      const std::function<float*(size_t)>& out, AssignmentScratch& s);

}  // namespace moe::net
