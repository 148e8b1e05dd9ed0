// The Engine front end on the golden tiny Mixtral: load (progress, cancel, errors), generate
// (greedy = Session + argmax, stop reasons, request_stop), live settings and events.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "core/store/mapped_expert_store.h"
#include "core/engine/cpu_expert_executor.h"
#include "core/frontend/engine.h"
#include "core/engine/session.h"
#include "core/gguf/gguf_writer.h"
#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode.h"
#include "tests/core/golden_variant.h"

namespace moe {
namespace {

const std::string kF32 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";

std::unique_ptr<Engine> load(int n_ctx = 128) {
  Deployment cfg;
  cfg.model_path = kF32;
  cfg.n_threads = 2;
  cfg.n_ctx = n_ctx;
  auto e = Engine::load(cfg);
  EXPECT_TRUE(e.ok()) << e.message();
  return e.ok() ? std::move(*e) : nullptr;
}

GenerateRequest greedy_request(const std::string& raw, int n) {
  GenerateRequest r;
  r.raw_prompt = raw;
  r.max_new_tokens = n;
  r.ignore_eos = true;
  r.sampler.temperature = 0;
  r.sampler.repeat_penalty = 1;
  return r;
}

TEST(Engine, LoadReportsProgressAndSummary) {
  std::vector<float> seen;
  Deployment cfg;
  cfg.model_path = kF32;
  cfg.n_threads = 2;
  cfg.n_ctx = 100000;  // clamped to the training context
  auto e = Engine::load(cfg, [&](float f) {
    seen.push_back(f);
    return true;
  });
  ASSERT_TRUE(e.ok()) << e.message();
  ASSERT_GE(seen.size(), 2u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_FLOAT_EQ(seen.back(), 1.0f);
  const ModelSummary& s = (*e)->summary();
  EXPECT_EQ(s.name, "mixtral-tiny-golden");
  EXPECT_EQ(s.n_layer, 2);
  EXPECT_EQ(s.n_expert, 4);
  EXPECT_EQ(s.n_expert_used, 2);
  EXPECT_EQ(s.n_vocab, 300);
  EXPECT_EQ(s.n_ctx, 128);
  EXPECT_EQ(s.tokenizer_model, "llama");
  EXPECT_EQ(s.file_type, "F32");
  EXPECT_GT(s.expert_bytes, s.non_expert_bytes);
  EXPECT_EQ(s.kv_cache_bytes, 2u * 128 * 32 * 4 * 2);
  EXPECT_EQ((*e)->experts_per_token(), 2);
}

TEST(Engine, LoadCanBeCancelledAndErrorsCarryTheReason) {
  Deployment cfg;
  cfg.model_path = kF32;
  auto c = Engine::load(cfg, [](float f) { return f < 0.5f; });
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("cancelled"), std::string::npos);
  cfg.model_path = "/nonexistent.gguf";
  auto m = Engine::load(cfg);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("/nonexistent.gguf"), std::string::npos) << m.message();
}

TEST(Engine, GreedyGenerationEqualsSessionArgmax) {
  auto e = load();
  ASSERT_TRUE(e);
  const std::string prompt = "the patient has a fever";
  std::string text;
  auto st = e->generate(greedy_request(prompt, 6), [&](std::string_view t) { text += t; });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(st->generated_tokens, 6);
  EXPECT_EQ(st->stop_reason, "max_tokens");
  EXPECT_EQ(st->computed_on, "local CPU");
  EXPECT_GT(st->time_to_first_token_s, 0);

  // The same with the parts by hand.
  auto model = Model::load(kF32);
  ASSERT_TRUE(model.ok());
  ThreadPool pool(1);
  MappedExpertStore store(**model);
  auto exec = CpuExpertExecutor::create(**model, store, pool, 8);
  auto s = Session::create(**model, pool, **exec, {128, 8});
  std::vector<int32_t> toks = e->tokenizer().encode(prompt, true, true);
  EXPECT_EQ(st->prompt_tokens, static_cast<int>(toks.size()));
  ASSERT_TRUE((*s)->eval(toks).ok());
  // A raw prompt's continuation keeps every space (prompt + answer reads as one text).
  StreamDecoder dec(e->tokenizer(), /*starts_text=*/false);
  std::string expected, raw_bytes;
  for (int i = 0; i < 6; ++i) {
    auto l = (*s)->logits();
    const int32_t next = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    expected += dec.push(next);
    if (!e->tokenizer().is_control(next)) raw_bytes += e->tokenizer().token_bytes(next);
    ASSERT_TRUE((*s)->eval({&next, 1}).ok());
  }
  expected += dec.flush();
  EXPECT_EQ(text, expected);
  if (unicode::complete_utf8_prefix(raw_bytes) == raw_bytes.size()) {
    EXPECT_EQ(text, raw_bytes);
  }
  // Deterministic across calls (the cache starts empty every time).
  std::string again;
  ASSERT_TRUE(e->generate(greedy_request(prompt, 6), [&](std::string_view t) { again += t; }).ok());
  EXPECT_EQ(again, text);
}

TEST(Engine, ChatTemplatePromptIsAccepted) {
  auto e = load();
  ASSERT_TRUE(e);
  GenerateRequest r = greedy_request("", 3);
  r.messages = {{"system", "be brief"}, {"user", "dose of the patient"}};
  auto st = e->generate(r, {});
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(st->generated_tokens, 3);
  // [INST] is a user-defined token of the fixture's vocabulary: parsed as one id.
  const auto ids = e->tokenizer().encode("[INST] a [/INST]", false, true);
  EXPECT_EQ(ids.front(), 3);
  EXPECT_EQ(e->summary().chat_template, "mistral");
}

TEST(Engine, StopRequestEndsTheAnswer) {
  auto e = load();
  ASSERT_TRUE(e);
  int pieces = 0;
  auto st = e->generate(greedy_request("the dose", 50), [&](std::string_view) {
    if (++pieces == 2) e->request_stop();
  });
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->stop_reason, "stopped");
  EXPECT_LT(st->generated_tokens, 50);
}

TEST(Engine, ContextFullStopsGeneration) {
  auto e = load(/*n_ctx=*/16);
  ASSERT_TRUE(e);
  auto st = e->generate(greedy_request("the dose", 100), {});
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(st->stop_reason, "context_full");
  EXPECT_EQ(st->prompt_tokens + st->generated_tokens, 17);  // the last one is not evaluated
  auto too_long = e->generate(greedy_request(std::string(40, 'x'), 5), {});
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.message().find("context"), std::string::npos);
}

// Benchmarks' requests (llama-bench's way): the prompt as ids, decoded tokens forced to given
// ids whatever the model would sample; ids outside the vocabulary are refused.
TEST(Engine, PromptIdsAndForcedIdsAreUsedAsTheyAre) {
  auto e = load(/*n_ctx=*/64);
  ASSERT_TRUE(e);
  GenerateRequest r;
  r.prompt_ids = {1, 100, 101, 102};
  r.forced_ids = {200, 201, 202};
  r.max_new_tokens = 5;
  r.ignore_eos = true;
  std::string text;
  auto st = e->generate(r, [&](std::string_view t) { text += t; });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(st->prompt_tokens, 4);
  EXPECT_EQ(st->generated_tokens, 5);
  const std::vector<int32_t> want = {200, 201, 202, 200, 201};  // cycled
  std::string expected;
  StreamDecoder d(e->tokenizer(), /*starts_text=*/false);
  for (int32_t id : want) expected += d.push(id);
  expected += d.flush();
  EXPECT_EQ(text, expected);

  r.forced_ids = {e->tokenizer().n_vocab()};
  auto bad = e->generate(r, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("outside the vocabulary"), std::string::npos) << bad.message();
  r.forced_ids.clear();
  r.prompt_ids = {-1};
  EXPECT_FALSE(e->generate(r, {}).ok());
}

// API callers get the front ends' ranges too: θ clamped to [0, 1], a NaN θ ignored.
TEST(Engine, LiveSettingsAreRangeChecked) {
  auto e = load();
  ASSERT_TRUE(e);
  e->set_theta(0.25f);
  e->set_theta(std::nanf(""));
  EXPECT_EQ(e->settings().theta, 0.25f);
  e->set_theta(5.0f);
  EXPECT_EQ(e->settings().theta, 1.0f);
  e->set_theta(-1.0f);
  EXPECT_EQ(e->settings().theta, 0.0f);
  e->set_experts_per_token(1000);
  EXPECT_EQ(e->settings().experts_per_token, kMaxExpertsUsed);
  e->set_experts_per_token(-3);
  EXPECT_EQ(e->settings().experts_per_token, 0);
}

// A conversation longer than the context loses its oldest user/assistant pairs (the system
// prompt and the last question stay) so that the prompt plus room for the answer fits.
TEST(Engine, LongConversationDropsTheOldestTurns) {
  auto e = load(/*n_ctx=*/128);
  ASSERT_TRUE(e);
  GenerateRequest r;
  r.max_new_tokens = 16;
  r.sampler.temperature = 0;
  r.messages.push_back({"system", "be brief"});
  for (int i = 0; i < 12; ++i) {
    r.messages.push_back({"user", "what is the dose " + std::to_string(i)});
    r.messages.push_back({"assistant", "the dose is " + std::to_string(i)});
  }
  r.messages.push_back({"user", "and now"});
  auto st = e->generate(r, {});
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_GT(st->dropped_messages, 0);
  EXPECT_EQ(st->dropped_messages % 2, 0);  // whole user/assistant pairs
  EXPECT_LT(st->dropped_messages, 24);     // not more than needed: something old is kept
  EXPECT_LE(st->prompt_tokens + 16, 128);
  // One pair fewer would not have fitted: the kept conversation uses most of the context.
  EXPECT_GT(st->prompt_tokens + 16, 128 - 40);

  GenerateRequest short_chat = r;
  short_chat.messages.resize(3);
  short_chat.messages.push_back({"user", "and now"});
  auto s2 = e->generate(short_chat, {});
  ASSERT_TRUE(s2.ok()) << s2.message();
  EXPECT_EQ(s2->dropped_messages, 0);

  GenerateRequest huge;
  huge.max_new_tokens = 8;
  huge.messages = {{"system", "be brief"}, {"user", std::string(400, 'x')}};
  auto s3 = e->generate(huge, {});
  ASSERT_FALSE(s3.ok());
  EXPECT_NE(s3.message().find("context"), std::string::npos);
}

TEST(Engine, LiveExpertsPerTokenAndEvents) {
  auto e = load();
  ASSERT_TRUE(e);
  auto q = e->events().subscribe();
  e->set_experts_per_token(1);
  EXPECT_EQ(e->experts_per_token(), 1);
  auto st = e->generate(greedy_request("the fever", 3), {});
  ASSERT_TRUE(st.ok());
  std::vector<Event> ev;
  q->drain(ev);
  int routing = 0, timing = 0, done = 0;
  for (const Event& x : ev) {
    if (const auto* r = std::get_if<RoutingEvent>(&x)) {
      ++routing;
      EXPECT_EQ(r->n_chosen, 1);
      EXPECT_FLOAT_EQ(r->weights[0], 1.0f);
      EXPECT_EQ(r->n_expert, 4);
    } else if (std::holds_alternative<TimingEvent>(x)) {
      ++timing;
    } else if (const auto* g = std::get_if<GenerationEvent>(&x)) {
      ++done;
      EXPECT_EQ(g->generated_tokens, 3);
      EXPECT_EQ(g->last_step - g->first_step + 1, 3u);  // prefill + 2 decode steps
    }
  }
  EXPECT_EQ(timing, 3);
  EXPECT_EQ(done, 1);
  EXPECT_EQ(routing, (st->prompt_tokens + 2) * 2);
  e->set_experts_per_token(100);
  EXPECT_EQ(e->experts_per_token(), 4);
}

// The tiered store through the front end: the same answer as the mapped store while another
// thread changes the RAM budget mid-generation; statistics and CacheEvents come out; a budget
// below the minimum, or for a store without one, is an error that changes nothing.
TEST(Engine, LiveRamBudgetDuringGeneration) {
  auto mapped = load();
  ASSERT_TRUE(mapped);
  EXPECT_FALSE(mapped->set_ram_budget(1u << 30).ok());
  EXPECT_FALSE(mapped->store_stats().has_value());
  std::string want_text;
  auto want = mapped->generate(greedy_request("the fever", 24),
                               [&](std::string_view t) { want_text += t; });
  ASSERT_TRUE(want.ok()) << want.message();

  Deployment cfg;
  cfg.model_path = kF32;
  cfg.n_threads = 2;
  cfg.n_ctx = 128;
  cfg.store = StoreKind::kTiered;
  cfg.ram_budget = RamBudget{0, 50};
  auto e = Engine::load(cfg);
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_NE((*e)->summary().backend.find("store tiered"), std::string::npos);
  auto q = (*e)->events().subscribe();
  const TieredStoreStats s0 = *(*e)->store_stats();
  std::atomic<bool> done{false};
  std::thread changer([&] {
    const uint64_t budgets[] = {s0.min_budget_bytes, s0.all_experts_bytes, s0.budget_bytes};
    for (int i = 0; !done.load(); ++i) {
      EXPECT_TRUE((*e)->set_ram_budget(budgets[i % 3]).ok());
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
  });
  std::string text;
  auto got =
      (*e)->generate(greedy_request("the fever", 24), [&](std::string_view t) { text += t; });
  done = true;
  changer.join();
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_EQ(text, want_text);
  const TieredStoreStats s = *(*e)->store_stats();
  EXPECT_GT(s.total.misses, 0u);
  EXPECT_GT(s.total.hits + s.total.misses, 0u);
  std::vector<Event> ev;
  q->drain(ev);
  int cache_events = 0;
  for (const Event& x : ev) cache_events += std::holds_alternative<CacheEvent>(x) ? 1 : 0;
  EXPECT_GT(cache_events, 0);
  const Status low = (*e)->set_ram_budget(s.min_budget_bytes - 1);
  EXPECT_FALSE(low.ok());
  EXPECT_NE(low.message().find("minimum"), std::string::npos) << low.message();
}

// Live settings are one snapshot taken once per token step: while another thread keeps
// switching between {k 1, θ 0} and {k 3, θ 0.2}, every step routes all its layers with one of
// the two, never a mix; fields not edited are kept.
TEST(Engine, LiveSettingsAreOneSnapshotPerStep) {
  auto e = load();
  ASSERT_TRUE(e);
  e->update_settings([](LiveSettings& s) {
    s.experts_per_token = 3;
    s.theta = 0.2f;
  });
  EXPECT_EQ(e->settings().experts_per_token, 3);
  EXPECT_FLOAT_EQ(e->theta(), 0.2f);
  e->set_experts_per_token(1);
  EXPECT_FLOAT_EQ(e->theta(), 0.2f);  // kept
  EXPECT_EQ(e->experts_per_token(), 1);
  auto q = e->events().subscribe();
  std::atomic<bool> done{false};
  std::thread flipper([&] {
    for (int i = 0; !done.load(); ++i) {
      e->update_settings([i](LiveSettings& s) {
        s.experts_per_token = i % 2 ? 3 : 1;
        s.theta = i % 2 ? 0.2f : 0.0f;
      });
      std::this_thread::yield();
    }
  });
  auto st = e->generate(greedy_request("the patient has a fever and a cough", 24), {});
  done = true;
  flipper.join();
  ASSERT_TRUE(st.ok()) << st.message();
  std::vector<Event> ev;
  q->drain(ev);
  std::map<uint64_t, std::set<int>> k_of_step;
  for (const Event& x : ev) {
    if (const auto* r = std::get_if<RoutingEvent>(&x)) k_of_step[r->step].insert(r->n_chosen);
  }
  ASSERT_GE(k_of_step.size(), 20u);
  for (const auto& [step, ks] : k_of_step) {
    EXPECT_EQ(ks.size(), 1u) << "step " << step << " mixed settings";
    EXPECT_TRUE(ks.count(1) || ks.count(3)) << step;
  }
}

// A selector that records that it ran and always picks expert 3.
class Always3 final : public ExpertSelector {
 public:
  int calls = 0;
  bool select(const SelectionInput& in, ExpertSelection& out, SelectionEvent* ev) override {
    ++calls;
    out.n = 1;
    out.experts[0] = 3;
    out.weights[0] = 1;
    if (ev) {
      ev->theta = in.theta;
      ev->n_kept = 1;
      ev->kept[0] = 3;
    }
    return ev != nullptr;
  }
  const char* name() const override { return "always3"; }
};

TEST(Engine, CustomSelectorAndThetaReachTheForwardPass) {
  auto e = load();
  ASSERT_TRUE(e);
  auto sel = std::make_shared<Always3>();
  e->set_selector(sel);
  e->set_theta(0.25f);
  auto q = e->events().subscribe();
  ASSERT_TRUE(e->generate(greedy_request("the", 2), {}).ok());
  EXPECT_GT(sel->calls, 0);
  std::vector<Event> ev;
  q->drain(ev);
  int selections = 0;
  for (const Event& x : ev) {
    if (const auto* s = std::get_if<SelectionEvent>(&x)) {
      ++selections;
      EXPECT_FLOAT_EQ(s->theta, 0.25f);
      EXPECT_EQ(s->kept[0], 3);
    }
    if (const auto* r = std::get_if<RoutingEvent>(&x)) {
      EXPECT_EQ(r->chosen[0], 3);
    }
  }
  EXPECT_GT(selections, 0);
  e->set_selector(nullptr);  // back to top-k
  const int before = sel->calls;
  ASSERT_TRUE(e->generate(greedy_request("the", 2), {}).ok());
  EXPECT_EQ(sel->calls, before);
}

}  // namespace
}  // namespace moe

namespace moe {
namespace {

TEST(Engine, TracePathWritesEveryEventAsJsonl) {
  const std::string path = std::string(MOE_BINARY_DIR) + "/engine_test_trace.jsonl";
  std::remove(path.c_str());
  {
    Deployment cfg;
    cfg.model_path = kF32;
    cfg.n_threads = 2;
    cfg.trace_path = path;
    auto e = Engine::load(cfg);
    ASSERT_TRUE(e.ok()) << e.message();
    ASSERT_TRUE((*e)->generate(greedy_request("the", 2), {}).ok());
  }  // the engine's destructor flushes the trace
  std::FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string all;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) all.append(buf, n);
  std::fclose(f);
  EXPECT_NE(all.find("\"type\":\"routing\""), std::string::npos);
  EXPECT_NE(all.find("\"type\":\"timing\""), std::string::npos);
  EXPECT_NE(all.find("\"type\":\"generation\""), std::string::npos);
  Deployment bad;
  bad.model_path = kF32;
  bad.trace_path = "/nonexistent-dir/trace.jsonl";
  EXPECT_FALSE(Engine::load(bad).ok());
}

}  // namespace
}  // namespace moe

namespace moe {
namespace {

// An embedding table with more rows than the tokenizer has tokens (padding, as some converted
// models have): the padding ids are never produced.
TEST(Engine, PaddingRowsBeyondTheTokenizerAreNeverSampled) {
  constexpr size_t kKeep = 250;  // of 300
  const std::string path = test::write_golden_copy(
      "engine_test_padded.gguf",
      [&](GgufKv& kv) {
        if (kv.key == "tokenizer.ggml.tokens" || kv.key == "tokenizer.ggml.scores" ||
            kv.key == "tokenizer.ggml.token_type") {
          std::get<GgufArray>(kv.value.v).truncate(kKeep);
        }
        return true;
      },
      // The LM head rows of the padding ids are scaled up so that they would win every argmax.
      [&](const TensorInfo& t, std::vector<uint8_t>& bytes) {
        if (t.name != "output.weight") return;
        auto* f = reinterpret_cast<float*>(bytes.data());
        for (size_t i = kKeep * 64; i < static_cast<size_t>(t.n_elements); ++i) f[i] *= 50.0f;
      });
  Deployment cfg;
  cfg.model_path = path;
  cfg.n_threads = 2;
  auto e = Engine::load(cfg);
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ((*e)->summary().n_vocab, 300);
  EXPECT_EQ((*e)->tokenizer().n_vocab(), 250);
  std::string text;
  auto st =
      (*e)->generate(greedy_request("the patient", 24), [&](std::string_view t) { text += t; });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(st->generated_tokens, 24);
  EXPECT_FALSE(text.empty());  // padding ids would decode to nothing
}

}  // namespace
}  // namespace moe

namespace moe {
namespace {

// read_tokenizer_data's errors already name the file; the assembly place must not add it again
// ("m.gguf: m.gguf: missing metadata key ...").
TEST(Engine, TokenizerErrorNamesTheFileOnce) {
  const std::string path = test::write_golden_copy(
      "engine_test_no_tokens.gguf", [](GgufKv& kv) { return kv.key != "tokenizer.ggml.tokens"; });
  Deployment cfg;
  cfg.model_path = path;
  cfg.n_threads = 2;
  auto e = Engine::load(cfg);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.message(), path + ": missing metadata key 'tokenizer.ggml.tokens'");
  // Tokenizer::create's errors start with "tokenizer: " already (was "tokenizer: tokenizer: ").
  test::write_golden_copy("engine_test_no_tokens.gguf", [](GgufKv& kv) {
    if (kv.key == "tokenizer.ggml.model")
      kv.value = GgufValue{GgufType::kString, std::string("bogus")};
    return true;
  });
  auto e2 = Engine::load(cfg);
  ASSERT_FALSE(e2.ok());
  EXPECT_EQ(e2.message().rfind(path + ": tokenizer: unsupported tokenizer model 'bogus'", 0), 0u)
      << e2.message();
}

// A prompt longer than max_batch (64) is prefilled in chunks; the context then fills exactly.
TEST(Engine, LongPromptInChunksThenContextFullExactly) {
  auto e = load(/*n_ctx=*/128);  // the fixture's training context
  ASSERT_TRUE(e);
  std::string prompt;
  for (int i = 0; i < 6; ++i) prompt += "the patient dose ";
  auto st = e->generate(greedy_request(prompt, 1000), {});
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_GT(st->prompt_tokens, 64);
  ASSERT_LT(st->prompt_tokens, 128);
  EXPECT_EQ(st->stop_reason, "context_full");
  EXPECT_EQ(st->prompt_tokens + st->generated_tokens, 129);  // the last one is not evaluated
}

}  // namespace
}  // namespace moe

namespace moe {
namespace {

GenerateRequest chat_request(std::vector<ChatMessage> messages, int n) {
  GenerateRequest r;
  r.messages = std::move(messages);
  r.max_new_tokens = n;
  r.ignore_eos = true;
  r.sampler.temperature = 0;
  r.sampler.repeat_penalty = 1;
  return r;
}

std::string answer_text(Engine& e, const GenerateRequest& r, GenerateStats* stats) {
  std::string text;
  auto st = e.generate(r, [&](std::string_view t) { text += t; });
  EXPECT_TRUE(st.ok()) << st.message();
  if (st.ok()) *stats = *st;
  return text;
}

// A follow-up question reuses the previous turn's KV cache for the shared prefix and answers
// exactly as an engine that evaluates the whole conversation from scratch.
TEST(EngineCacheReuse, FollowUpReusesThePrefixAndAnswersTheSame) {
  auto e = load(256);
  ASSERT_TRUE(e);
  GenerateStats s1, s2, fresh_stats;
  const std::string a1 = answer_text(*e, chat_request({{"user", "the dose"}}, 6), &s1);
  EXPECT_EQ(s1.reused_prompt_tokens, 0);
  const auto turn2 =
      chat_request({{"user", "the dose"}, {"assistant", a1}, {"user", "and the rate"}}, 6);
  const std::string a2 = answer_text(*e, turn2, &s2);
  EXPECT_GT(s2.reused_prompt_tokens, s1.prompt_tokens / 2);
  EXPECT_LT(s2.reused_prompt_tokens, s2.prompt_tokens);
  auto fresh = load(256);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(answer_text(*fresh, turn2, &fresh_stats), a2);
  EXPECT_EQ(fresh_stats.reused_prompt_tokens, 0);
  EXPECT_EQ(fresh_stats.prompt_tokens, s2.prompt_tokens);

  // Regenerating the same request re-evaluates only the last prompt token.
  GenerateStats s3;
  EXPECT_EQ(answer_text(*e, turn2, &s3), a2);
  EXPECT_EQ(s3.reused_prompt_tokens, s3.prompt_tokens - 1);
}

TEST(EngineCacheReuse, ChangedRoutingOrOptOutEvaluatesEverything) {
  auto e = load(256);
  ASSERT_TRUE(e);
  const auto req = chat_request({{"user", "the dose"}}, 4);
  GenerateStats st;
  answer_text(*e, req, &st);
  e->set_experts_per_token(1);  // the cached keys/values were routed with k = 2
  answer_text(*e, req, &st);
  EXPECT_EQ(st.reused_prompt_tokens, 0);
  answer_text(*e, req, &st);  // now cached with k = 1
  EXPECT_EQ(st.reused_prompt_tokens, st.prompt_tokens - 1);
  auto no_reuse = req;
  no_reuse.reuse_cache = false;
  answer_text(*e, no_reuse, &st);
  EXPECT_EQ(st.reused_prompt_tokens, 0);
}

}  // namespace
}  // namespace moe
