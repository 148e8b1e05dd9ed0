#include "netlink/assignment_outputs.h"

#include <algorithm>
#include <cstring>

namespace moe::net {

Status expert_outputs(ExpertExecutor& executor, int layer, size_t n_embd, size_t n,
                      size_t max_rows, const std::function<const float*(size_t)>& row,
                      const std::function<int32_t(size_t)>& expert,
                      const std::function<float*(size_t)>& out, AssignmentScratch& s) {
  const size_t e = n_embd, chunk = std::max<size_t>(max_rows, 1);
  for (size_t c0 = 0; c0 < n; c0 += chunk) {
    const size_t c1 = std::min(n, c0 + chunk);
    s.x.resize((c1 - c0) * e);
    s.y.assign((c1 - c0) * e, 0.0f);
    s.assign.clear();
    for (size_t i = c0; i < c1; ++i) {
      std::memcpy(s.x.data() + (i - c0) * e, row(i), e * sizeof(float));
      s.assign.push_back({static_cast<int32_t>(i - c0), expert(i), 1.0f});
    }
    // The executor wants assignments grouped by expert.
    std::stable_sort(s.assign.begin(), s.assign.end(),
                     [](const auto& a, const auto& b) { return a.expert < b.expert; });
    ExpertBatch b;
    b.layer = layer;
    b.n_tokens = static_cast<int>(c1 - c0);
    b.n_embd = static_cast<int>(e);
    b.x = s.x.data();
    b.out = s.y.data();
    b.assignments = s.assign;
    if (auto st = executor.run(b); !st.ok()) return st;
    for (size_t i = c0; i < c1; ++i) {
      std::memcpy(out(i), s.y.data() + (i - c0) * e, e * sizeof(float));
    }
  }
  return {};
}

}  // namespace moe::net
