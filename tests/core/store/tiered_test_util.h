#pragma once
// Shared by the tiered store tests: the golden tiny models and a prefill + greedy decode run
// whose logits are compared bit for bit against the file mapping.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/store/expert_store.h"

namespace moe::tiered_test {

inline const std::string kDir = std::string(MOE_FIXTURE_DIR) + "/golden/";
inline const std::string kQ8 = kDir + "mixtral_tiny_q8_0.gguf";
inline const std::string kF32 = kDir + "mixtral_tiny_f32.gguf";

struct Outputs {
  std::vector<float> prefill, decode;
  std::vector<int32_t> tokens;
};

// Prefill 7 tokens, then `n_decode` greedy decode steps; `between` runs before each step.
inline Outputs run(const Model& m, ExpertStore& store, bool prefetch, int n_decode = 5,
            const std::function<void(int)>& between = {}) {
  ThreadPool pool(2);
  auto exec = CpuExpertExecutor::create(m, store, pool, 16);
  EXPECT_TRUE(exec.ok()) << exec.message();
  auto s = Session::create(m, pool, **exec, {64, 16});
  EXPECT_TRUE(s.ok()) << s.message();
  (*s)->set_prefetch(prefetch);
  Outputs r;
  const std::vector<int32_t> prompt = {1, 15, 27, 3, 99, 42, 7};
  Status st = (*s)->eval(prompt, /*all_logits=*/true);
  EXPECT_TRUE(st.ok()) << st.message();
  r.prefill.assign((*s)->logits().begin(), (*s)->logits().end());
  for (int i = 0; i < n_decode; ++i) {
    if (between) between(i);
    const auto l = (*s)->logits();
    const auto last = l.subspan(l.size() - static_cast<size_t>(m.hparams().n_vocab));
    const int32_t next =
        static_cast<int32_t>(std::max_element(last.begin(), last.end()) - last.begin());
    r.tokens.push_back(next);
    st = (*s)->eval({&next, 1});
    EXPECT_TRUE(st.ok()) << st.message();
    r.decode.insert(r.decode.end(), (*s)->logits().begin(), (*s)->logits().end());
  }
  return r;
}

inline bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return !a.empty() && a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace moe::tiered_test
