// The CPU expert executor runs a decode step (one token) as one task per expert group when the
// groups fill the threads evenly (gate, up, down of an expert in one task), else as separate
// gate/up and down dispatches split into row slices. Both must give identical logits.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/store/mapped_expert_store.h"
#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/engine/thread_pool.h"
#include "core/model/model.h"

namespace moe {
namespace {

// Logits after each token of `tokens` fed one at a time, with `threads` threads.
std::vector<std::vector<float>> decode_logits(const std::string& file, int threads,
                                              const std::vector<int32_t>& tokens) {
  std::vector<std::vector<float>> out;
  auto m = Model::load(std::string(MOE_FIXTURE_DIR) + "/golden/" + file);
  if (!m) {
    ADD_FAILURE() << m.message();
    return out;
  }
  ThreadPool pool(threads);
  MappedExpertStore store(**m);
  auto e = CpuExpertExecutor::create(**m, store, pool, 8);
  if (!e) {
    ADD_FAILURE() << e.message();
    return out;
  }
  auto s = Session::create(**m, pool, **e, {64, 8, KvType::kF32});
  if (!s) {
    ADD_FAILURE() << s.message();
    return out;
  }
  for (const int32_t t : tokens) {
    if (!(*s)->eval({&t, 1}).ok()) {
      ADD_FAILURE() << "eval failed";
      break;
    }
    const auto l = (*s)->logits();
    out.emplace_back(l.begin(), l.end());
  }
  return out;
}

TEST(ExpertDecodePaths, FusedPerExpertTasksEqualSlicedDispatches) {
  const std::vector<int32_t> tokens = {1, 17, 42, 5, 99, 3, 64, 7, 250, 11};
  for (const char* file : {"mixtral_tiny_q8_0.gguf", "mixtral_tiny_f32.gguf"}) {
    // 2 experts per token: 1 and 2 threads take the per-expert path, 3 the sliced one.
    const auto one = decode_logits(file, 1, tokens);
    const auto two = decode_logits(file, 2, tokens);
    const auto three = decode_logits(file, 3, tokens);
    ASSERT_EQ(one.size(), tokens.size()) << file;
    ASSERT_EQ(two.size(), tokens.size()) << file;
    ASSERT_EQ(three.size(), tokens.size()) << file;
    for (size_t p = 0; p < tokens.size(); ++p) {
      ASSERT_FALSE(three[p].empty());
      for (size_t v = 0; v < three[p].size(); ++v) {
        ASSERT_EQ(one[p][v], three[p][v]) << file << " pos " << p << " vocab " << v;
        ASSERT_EQ(two[p][v], three[p][v]) << file << " pos " << p << " vocab " << v;
      }
    }
  }
}

}  // namespace
}  // namespace moe
