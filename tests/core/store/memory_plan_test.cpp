// The memory plan (core/model/memory_plan.h) is what the engine allocates: KV cache bytes for
// F32 and F16, and compute buffers equal to the session's and the CPU executor's own sums.
#include <gtest/gtest.h>

#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/model/memory_plan.h"
#include "core/store/mapped_expert_store.h"

namespace moe {
namespace {

const std::string kQ8 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_q8_0.gguf";

TEST(MemoryPlan, MatchesWhatTheEngineAllocates) {
  auto m = Model::load(kQ8);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  for (KvType kv : {KvType::kF32, KvType::kF16}) {
    for (int threads : {1, 3}) {
      for (int batch : {1, 16}) {
        ThreadPool pool(threads);
        MappedExpertStore store(model);
        auto exec = CpuExpertExecutor::create(model, store, pool, batch);
        ASSERT_TRUE(exec.ok());
        auto s = Session::create(model, pool, **exec, {100, batch, kv});
        ASSERT_TRUE(s.ok());
        const MemoryPlan p = plan_memory(model, 100, kv, batch, threads);
        EXPECT_EQ(p.kv_cache_bytes, (*s)->kv_cache_bytes()) << kv_type_name(kv);
        EXPECT_EQ(p.compute_bytes, (*s)->buffer_bytes() + (*exec)->buffer_bytes())
            << kv_type_name(kv) << " threads " << threads << " batch " << batch;
        EXPECT_EQ(p.non_expert_bytes, model.non_expert_bytes());
        EXPECT_EQ(p.expert_bytes, model.expert_bytes());
        EXPECT_EQ(p.bytes_per_expert * static_cast<uint64_t>(p.n_layer * p.n_expert),
                  p.expert_bytes);  // every expert of the fixture has the same size
        EXPECT_EQ(p.total_bytes(), p.resident_bytes() + p.expert_bytes);
      }
    }
  }
}

TEST(MemoryPlan, KvCacheFormulaAndContextClamp) {
  HParams hp;
  hp.n_layer = 32;
  hp.n_head_kv = 8;
  hp.head_dim = 128;
  hp.n_ctx_train = 32768;
  // Mixtral 8x7B at 4096 tokens: 512 MiB in F32... per K and V: 32 * 4096 * 1024 * 4 * 2 = 1 GiB.
  EXPECT_EQ(kv_cache_bytes(hp, 4096, KvType::kF32), 1ull << 30);
  EXPECT_EQ(kv_cache_bytes(hp, 4096, KvType::kF16), 1ull << 29);
  EXPECT_EQ(clamp_context(hp, 100000), 32768);
  EXPECT_EQ(clamp_context(hp, 0), 1);
  EXPECT_STREQ(kv_type_name(KvType::kF16), "F16");
}

}  // namespace
}  // namespace moe
