// The CPU forward pass against transformers' MixtralForCausalLM (tools/make_golden_mixtral.py):
// logits of every position, the experts chosen per token and layer, a greedy continuation.
// Norm of the logits comparison, per position p: max_v |ours - ref| / max_v |ref|.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include "core/store/mapped_expert_store.h"
#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/engine/thread_pool.h"
#include "core/model/model.h"

namespace moe {
namespace {

const std::string kDir = std::string(MOE_FIXTURE_DIR) + "/golden/";

struct Golden {
  std::vector<int32_t> tokens, greedy;
  std::vector<std::vector<float>> logits;              // [pos][vocab]
  std::vector<std::vector<float>> logits_q8w;          // same, weights round-tripped through Q8_0
  std::vector<std::vector<std::vector<int>>> experts;  // [layer][pos][k]
};

Golden load_golden() {
  std::ifstream f(kDir + "mixtral_tiny_golden.json");
  EXPECT_TRUE(f.good());
  const auto j = nlohmann::json::parse(f);
  Golden g;
  g.tokens = j["tokens"].get<std::vector<int32_t>>();
  g.greedy = j["greedy"].get<std::vector<int32_t>>();
  g.logits = j["logits"].get<std::vector<std::vector<float>>>();
  g.logits_q8w = j["logits_q8_0_weights"].get<std::vector<std::vector<float>>>();
  g.experts = j["experts"].get<std::vector<std::vector<std::vector<int>>>>();
  return g;
}

struct Rig {
  std::unique_ptr<Model> model;
  std::unique_ptr<ThreadPool> pool;
  std::unique_ptr<MappedExpertStore> store;
  std::unique_ptr<CpuExpertExecutor> exec;
  std::unique_ptr<Session> session;
  EventBus bus;
  std::shared_ptr<EventQueue> queue;

  explicit Rig(const std::string& file, int threads = 2, int max_batch = 64,
               KvType kv = KvType::kF32) {
    auto m = Model::load(kDir + file);
    if (!m) ADD_FAILURE() << m.message();
    model = std::move(*m);
    pool = std::make_unique<ThreadPool>(threads);
    store = std::make_unique<MappedExpertStore>(*model);
    auto e = CpuExpertExecutor::create(*model, *store, *pool, max_batch);
    if (!e) ADD_FAILURE() << e.message();
    exec = std::move(*e);
    auto s = Session::create(*model, *pool, *exec, {128, max_batch, kv});
    if (!s) ADD_FAILURE() << s.message();
    session = std::move(*s);
    queue = bus.subscribe();
    session->set_event_bus(&bus);
  }
};

double rel_err(const float* ours, const std::vector<float>& ref) {
  double max_diff = 0, max_ref = 0;
  for (size_t v = 0; v < ref.size(); ++v) {
    max_diff = std::max(max_diff, std::fabs(static_cast<double>(ours[v]) - ref[v]));
    max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[v])));
  }
  return max_diff / max_ref;
}

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

// Fraction of (layer, position) whose chosen experts (in order) match the reference.
double routing_agreement(EventQueue& q, const Golden& g, int* n_seen) {
  std::vector<Event> events;
  q.drain(events);
  int same = 0, seen = 0;
  for (const Event& e : events) {
    const auto* r = std::get_if<RoutingEvent>(&e);
    if (!r) continue;
    ++seen;
    const auto& ref = g.experts[static_cast<size_t>(r->layer)][static_cast<size_t>(r->pos)];
    bool eq = r->n_chosen == static_cast<int>(ref.size());
    for (int j = 0; eq && j < r->n_chosen; ++j)
      eq = r->chosen[static_cast<size_t>(j)] == ref[static_cast<size_t>(j)];
    same += eq;
  }
  *n_seen = seen;
  return seen ? static_cast<double>(same) / seen : 0;
}

void check_logits(Session& s, const Golden& g, const std::vector<std::vector<float>>& ref,
                  double tol, double* worst) {
  const size_t V = ref[0].size();
  ASSERT_EQ(s.logits().size(), g.tokens.size() * V);
  *worst = 0;
  for (size_t p = 0; p < g.tokens.size(); ++p) {
    const double err = rel_err(s.logits().data() + p * V, ref[p]);
    *worst = std::max(*worst, err);
    EXPECT_LE(err, tol) << "position " << p;
  }
}

TEST(GoldenMixtral, F32LogitsAndRoutingMatchTransformers) {
  const Golden g = load_golden();
  Rig rig("mixtral_tiny_f32.gguf");
  ASSERT_TRUE(rig.session);
  ASSERT_TRUE(rig.session->eval(g.tokens, /*all_logits=*/true).ok());
  double worst = 0;
  check_logits(*rig.session, g, g.logits, 1e-4, &worst);
  RecordProperty("max_rel_err", std::to_string(worst));
  std::printf("F32 worst per-position max|diff|/max|ref| = %.3g\n", worst);
  int seen = 0;
  EXPECT_EQ(routing_agreement(*rig.queue, g, &seen), 1.0);
  EXPECT_EQ(seen, static_cast<int>(g.tokens.size() * g.experts.size()));
}

TEST(GoldenMixtral, F32IncrementalDecodeMatchesBatch) {
  const Golden g = load_golden();
  Rig rig("mixtral_tiny_f32.gguf", /*threads=*/3, /*max_batch=*/5);  // chunks of 5 too
  ASSERT_TRUE(rig.session);
  const size_t V = g.logits[0].size();
  double worst = 0;
  for (size_t p = 0; p < g.tokens.size(); ++p) {
    ASSERT_TRUE(rig.session->eval({&g.tokens[p], 1}).ok());
    ASSERT_EQ(rig.session->logits().size(), V);
    worst = std::max(worst, rel_err(rig.session->logits().data(), g.logits[p]));
  }
  EXPECT_LE(worst, 1e-4);
  // A prompt longer than max_batch is split; the last logits still match.
  rig.session->reset();
  ASSERT_TRUE(rig.session->eval(g.tokens).ok());
  EXPECT_LE(rel_err(rig.session->logits().data(), g.logits.back()), 1e-4);
}

TEST(GoldenMixtral, F32GreedyContinuationMatches) {
  const Golden g = load_golden();
  Rig rig("mixtral_tiny_f32.gguf");
  ASSERT_TRUE(rig.session);
  ASSERT_TRUE(rig.session->eval(g.tokens).ok());
  std::vector<int32_t> out;
  for (size_t i = 0; i < g.greedy.size(); ++i) {
    const int32_t next = argmax(rig.session->logits());
    out.push_back(next);
    ASSERT_TRUE(rig.session->eval({&next, 1}).ok());
  }
  EXPECT_EQ(out, g.greedy);
}

TEST(GoldenMixtral, Q8_0WithinToleranceOfTransformers) {
  const Golden g = load_golden();
  Rig rig("mixtral_tiny_q8_0.gguf");
  ASSERT_TRUE(rig.session);
  ASSERT_TRUE(rig.session->eval(g.tokens, true).ok());
  // Against the F32 model: weight and activation quantization together.
  double worst = 0;
  check_logits(*rig.session, g, g.logits, 5e-2, &worst);
  std::printf("Q8_0 vs F32 transformers: worst max|diff|/max|ref| = %.3g\n", worst);
  // Against transformers running the Q8_0-rounded weights: only our activation quantization.
  check_logits(*rig.session, g, g.logits_q8w, 3e-2, &worst);
  std::printf("Q8_0 vs Q8_0-weight transformers: worst max|diff|/max|ref| = %.3g\n", worst);
  int seen = 0;
  const double agree = routing_agreement(*rig.queue, g, &seen);
  std::printf("Q8_0 routing agreement %.3f of %d\n", agree, seen);
  EXPECT_GE(agree, 0.9);
}

// The F16 KV cache: K and V rounded to half precision (relative 2^-11) before attention.
TEST(GoldenMixtral, F16KvCacheStaysCloseAndRoutesIdentically) {
  const Golden g = load_golden();
  Rig rig("mixtral_tiny_f32.gguf", 2, 64, KvType::kF16);
  ASSERT_TRUE(rig.session);
  EXPECT_EQ(rig.session->kv_cache_bytes(), 2u * 128 * 32 * 2 * 2);
  ASSERT_TRUE(rig.session->eval(g.tokens, true).ok());
  double worst = 0;
  check_logits(*rig.session, g, g.logits, 2e-3, &worst);
  std::printf("F32 weights, F16 KV: worst max|diff|/max|ref| = %.3g\n", worst);
  EXPECT_GT(worst, 0.0);  // the half-precision path really ran
  int seen = 0;
  EXPECT_EQ(routing_agreement(*rig.queue, g, &seen), 1.0);
  rig.session->reset();
  ASSERT_TRUE(rig.session->eval(g.tokens).ok());
  std::vector<int32_t> out;
  for (size_t i = 0; i < g.greedy.size(); ++i) {
    const int32_t next = argmax(rig.session->logits());
    out.push_back(next);
    ASSERT_TRUE(rig.session->eval({&next, 1}).ok());
  }
  EXPECT_EQ(out, g.greedy);
}

TEST(GoldenMixtral, ThreadCountDoesNotChangeResults) {
  const Golden g = load_golden();
  Rig one("mixtral_tiny_q8_0.gguf", 1), four("mixtral_tiny_q8_0.gguf", 4);
  ASSERT_TRUE(one.session && four.session);
  ASSERT_TRUE(one.session->eval(g.tokens, true).ok());
  ASSERT_TRUE(four.session->eval(g.tokens, true).ok());
  const auto a = one.session->logits(), b = four.session->logits();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << i;
}

}  // namespace
}  // namespace moe
