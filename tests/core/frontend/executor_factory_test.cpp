// Deployment::executor: the seam CUDA and LAN executors plug into, built by the assembly place
// with every part it made (model, store, local executor, pool, event bus). A wrapper that
// forwards to the local executor must see every MoE layer call, leave the answer unchanged,
// and name where the answer was computed.
#include <gtest/gtest.h>

#include <atomic>

#include "core/deploy/assemble.h"
#include "core/frontend/engine.h"
#include "core/engine_api/expert_executor.h"
#include "core/model/model.h"

namespace moe {
namespace {

const std::string kF32 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";

class CountingExecutor final : public ExpertExecutor {
 public:
  CountingExecutor(ExpertExecutor& inner, std::atomic<int>& calls, std::atomic<int>& assigns)
      : inner_(inner), calls_(calls), assigns_(assigns) {}
  Status run(const ExpertBatch& b) override {
    ++calls_;
    assigns_ += static_cast<int>(b.assignments.size());
    return inner_.run(b);
  }
  std::string_view name() const override { return "counting wrapper"; }

 private:
  ExpertExecutor& inner_;
  std::atomic<int>& calls_;
  std::atomic<int>& assigns_;
};

GenerateRequest greedy(int n) {
  GenerateRequest r;
  r.raw_prompt = "hello there";
  r.max_new_tokens = n;
  r.ignore_eos = true;
  r.sampler.temperature = 0;
  return r;
}

std::string answer(Engine& e, int n, GenerateStats* stats = nullptr) {
  std::string text;
  auto st = e.generate(greedy(n), [&](std::string_view t) { text += t; });
  EXPECT_TRUE(st.ok()) << st.message();
  if (stats != nullptr && st.ok()) *stats = *st;
  return text;
}

TEST(ExecutorFactory, SeesEveryLayerCallAndKeepsTheAnswer) {
  Deployment cfg;
  cfg.model_path = kF32;
  cfg.n_threads = 2;
  cfg.n_ctx = 64;
  auto plain = Engine::load(cfg);
  ASSERT_TRUE(plain.ok()) << plain.message();
  const std::string expected = answer(**plain, 6);

  std::atomic<int> calls{0}, assigns{0}, n_layer{0};
  std::atomic<bool> saw_parts{false};
  cfg.executor = [&](const AssemblyContext& ctx) -> Result<std::unique_ptr<ExpertExecutor>> {
    n_layer = ctx.model.n_layer();
    saw_parts = ctx.store.name() == "mapped" && ctx.local.name() == "local CPU" &&
                ctx.pool.size() == 2 && ctx.latency_sink == nullptr;
    return std::unique_ptr<ExpertExecutor>(new CountingExecutor(ctx.local, calls, assigns));
  };
  auto wrapped = Engine::load(cfg);
  ASSERT_TRUE(wrapped.ok()) << wrapped.message();
  GenerateStats stats;
  EXPECT_EQ(answer(**wrapped, 6, &stats), expected);
  EXPECT_EQ(stats.computed_on, "counting wrapper");
  ASSERT_EQ(n_layer.load(), 2);
  EXPECT_TRUE(saw_parts.load());
  EXPECT_NE((*wrapped)->summary().backend.find("executor counting wrapper"), std::string::npos)
      << (*wrapped)->summary().backend;
  // One call per layer per forward step (a prefill step and 5 more decode steps at least).
  EXPECT_EQ(calls.load() % 2, 0);
  EXPECT_GE(calls.load(), 2 * 6);
  // Two experts per token per layer: prompt tokens + 5 decoded tokens fed back.
  EXPECT_EQ(assigns.load(), 2 * 2 * (stats.prompt_tokens + stats.generated_tokens - 1));
}

TEST(ExecutorFactory, AFailingWrapperFailsTheLoadWithItsMessage) {
  Deployment cfg;
  cfg.model_path = kF32;
  cfg.n_threads = 1;
  cfg.executor = [](const AssemblyContext&) -> Result<std::unique_ptr<ExpertExecutor>> {
    return Error{"no expert device reachable"};
  };
  auto e = Engine::load(cfg);
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("no expert device reachable"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("mixtral_tiny_f32.gguf"), std::string::npos) << e.message();
}

}  // namespace
}  // namespace moe
