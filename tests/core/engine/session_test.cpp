// Session error paths and cache behaviour (the numerics are in golden_mixtral_test.cpp).
#include <gtest/gtest.h>

#include <cmath>

#include "core/store/mapped_expert_store.h"
#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"

namespace moe {
namespace {

const std::string kQ8 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_q8_0.gguf";

struct Parts {
  std::unique_ptr<Model> model;
  ThreadPool pool{2};
  std::unique_ptr<MappedExpertStore> store;
  std::unique_ptr<CpuExpertExecutor> exec;
  std::unique_ptr<Session> s;
  explicit Parts(int n_ctx, int max_batch = 8) {
    model = std::move(Model::load(kQ8).value());
    store = std::make_unique<MappedExpertStore>(*model);
    exec = std::move(CpuExpertExecutor::create(*model, *store, pool, max_batch).value());
    s = std::move(Session::create(*model, pool, *exec, {n_ctx, max_batch}).value());
  }
};

TEST(Session, RejectsBadInputWithoutMovingTheCache) {
  Parts p(10);
  const std::vector<int32_t> bad = {1, 300};
  Status st = p.s->eval(bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("300"), std::string::npos) << st.message();
  EXPECT_EQ(p.s->pos(), 0);
  EXPECT_FALSE(p.s->eval({}).ok());
  const std::vector<int32_t> many(11, 5);
  st = p.s->eval(many);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("context full"), std::string::npos) << st.message();
  const std::vector<int32_t> nine(9, 5);
  EXPECT_FALSE(p.s->eval(nine, /*all_logits=*/true).ok());  // > max_batch
  ASSERT_TRUE(p.s->eval(nine).ok());
  EXPECT_EQ(p.s->pos(), 9);
  const int32_t one = 7;
  ASSERT_TRUE(p.s->eval({&one, 1}).ok());
  EXPECT_FALSE(p.s->eval({&one, 1}).ok());  // full
}

TEST(Session, ResetReplaysIdentically) {
  Parts p(32);
  const std::vector<int32_t> toks = {1, 20, 30, 40};
  ASSERT_TRUE(p.s->eval(toks).ok());
  const std::vector<float> a(p.s->logits().begin(), p.s->logits().end());
  p.s->reset();
  ASSERT_TRUE(p.s->eval(toks).ok());
  const std::vector<float> b(p.s->logits().begin(), p.s->logits().end());
  EXPECT_EQ(a, b);
  EXPECT_EQ(p.s->step(), 2u);
  // A prompt chunk without the LM head, then the rest: the same last logits.
  p.s->reset();
  ASSERT_TRUE(p.s->eval({toks.data(), 2}, Session::LogitsWanted::kNone).ok());
  EXPECT_TRUE(p.s->logits().empty());
  ASSERT_TRUE(p.s->eval({toks.data() + 2, 2}).ok());
  const std::vector<float> c(p.s->logits().begin(), p.s->logits().end());
  ASSERT_EQ(c.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(c[i], a[i], 1e-4f * (1 + std::fabs(a[i])));
  EXPECT_EQ(p.s->kv_cache_bytes(), 2u * 32 * 32 * 4 * 2);
}

TEST(Session, ExpertsPerTokenIsLive) {
  Parts p(32);
  EventBus bus;
  auto q = bus.subscribe();
  p.s->set_event_bus(&bus);
  const int32_t t = 5;
  p.s->set_routing({nullptr, 3, 0});
  ASSERT_TRUE(p.s->eval({&t, 1}).ok());
  p.s->set_routing({nullptr, 1, 0});
  ASSERT_TRUE(p.s->eval({&t, 1}).ok());
  std::vector<Event> ev;
  q->drain(ev);
  std::vector<int> chosen;
  for (const Event& e : ev) {
    if (const auto* r = std::get_if<RoutingEvent>(&e)) chosen.push_back(r->n_chosen);
  }
  EXPECT_EQ(chosen, (std::vector<int>{3, 3, 1, 1}));
}

}  // namespace
}  // namespace moe
