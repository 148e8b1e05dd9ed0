// The trained demo model shipped with the app (resources/demo/moe-studio-demo-q8_0.gguf,
// tools/demo_train.py) against PyTorch (tools/demo_reference.py -> tests/fixtures/demo/
// reference.json, transformers' MixtralForCausalLM on the same weights):
//   * the held-out text (WordNet senses training never saw) tokenizes to the same ids;
//   * perplexity by llama.cpp's chunk method within 1 % of PyTorch on the trained F32 weights
//     (issue 16's bar) and on the Q8_0-rounded weights the file holds (what is left is our Q8_0
//     activation quantization: -0.6 % on the model of run 2, where the F16 file is within
//     0.02 % of PyTorch F32, docs/demo-model.md);
//   * the greedy answers to three chat prompts, and to the first again behind the app chat's
//     default system prompt (the fine-tune of run 3 saw it: docs/demo-model.md), encoded by
//     our chat template as the training script encoded them, equal PyTorch's
//     token for token over 32 steps, up to the first step where PyTorch's top-2 logits are
//     within kTie of each other (our Q8_0 activation rounding moves logits by ~1e-2, so such a
//     near-tie may flip, after which the texts legitimately differ); each answer must agree at
//     least up to its end of answer (</s>) with PyTorch on the Q8_0-rounded weights or with
//     PyTorch on the trained weights;
//   * routing is not uniform: each layer's expert-usage entropy is below log2(8) = 3 bits and
//     within 0.1 bit of PyTorch's.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/deploy/assemble.h"
#include "core/engine/perplexity.h"
#include "core/engine_api/routing_stats.h"
#include "core/tokenizer/chat_encode.h"

namespace moe {
namespace {

const std::string kModel =
    std::string(MOE_SOURCE_DIR) + "/resources/demo/moe-studio-demo-q8_0.gguf";
const std::string kRef = std::string(MOE_FIXTURE_DIR) + "/demo/";

nlohmann::json reference() {
  std::ifstream f(kRef + "reference.json");
  EXPECT_TRUE(f.good()) << kRef << "reference.json";
  return nlohmann::json::parse(f);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::unique_ptr<Backend> open_demo() {
  Deployment d;
  d.model_path = kModel;
  d.n_threads = 2;
  d.n_ctx = 256;
  d.max_batch = 64;
  auto rt = assemble(d);
  EXPECT_TRUE(rt.ok()) << rt.message();
  return rt.ok() ? std::move(rt).value() : nullptr;
}

// Top-2 logit gap below which a greedy step may flip between PyTorch and our Q8_0 engine.
constexpr double kTie = 0.05;

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

TEST(ShippedDemoModel, HeldOutTextTokenizesAsSentencePiece) {
  const auto ref = reference();
  const auto rt = open_demo();
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->model->hparams().n_expert, 8);
  EXPECT_EQ(rt->tokenizer->encode(read_file(kRef + "heldout.txt"), true, false),
            ref["tokens"].get<std::vector<int32_t>>());
}

TEST(ShippedDemoModel, PerplexityMatchesPyTorch) {
  const auto ref = reference();
  const auto rt = open_demo();
  ASSERT_TRUE(rt);
  const auto tokens = ref["tokens"].get<std::vector<int32_t>>();
  ChunkPerplexityOptions o;
  o.n_ctx = ref["n_ctx"];
  o.bos_id = rt->tokenizer->bos();
  auto r = chunk_perplexity(*rt->session, tokens, o);
  ASSERT_TRUE(r.ok()) << r.message();
  const double f32 = ref["f32"]["perplexity"].back()["ppl"];
  const double q8w = ref["q8_0_weights"]["perplexity"].back()["ppl"];
  EXPECT_EQ(r->nll.n, ref["f32"]["perplexity"].back()["scored"].get<int>());
  const double ours = r->nll.perplexity();
  std::printf("PPL ours %.4f, PyTorch F32 %.4f (%.3f %%), PyTorch Q8_0 weights %.4f (%.3f %%)\n",
              ours, f32, 100 * (ours - f32) / f32, q8w, 100 * (ours - q8w) / q8w);
  EXPECT_NEAR(ours, f32, 0.01 * f32);
  EXPECT_NEAR(ours, q8w, 0.01 * q8w);
}

// How far our greedy tokens follow one PyTorch greedy run `g` (reference.json's form), and
// whether a divergence is legitimate: at a step where PyTorch's top-2 logits are within kTie,
// and only after PyTorch's answer has ended (</s>).
struct GreedyAgreement {
  size_t same = 0, eos = 0;
  bool ok = false;
};

GreedyAgreement agreement(const std::vector<int32_t>& out, const nlohmann::json& g,
                          int32_t eos_id) {
  const auto want = g["greedy"].get<std::vector<int32_t>>();
  const auto margins = g["margins"].get<std::vector<double>>();
  GreedyAgreement a;
  a.eos = static_cast<size_t>(std::find(want.begin(), want.end(), eos_id) - want.begin());
  while (a.same < want.size() && out[a.same] == want[a.same]) ++a.same;
  a.ok = a.same == want.size() ||
         (margins[a.same] < kTie && a.same > std::min(a.eos, want.size() - 1));
  return a;
}

TEST(ShippedDemoModel, GreedyAnswersMatchPyTorch) {
  const auto ref = reference();
  const auto rt = open_demo();
  ASSERT_TRUE(rt);
  ChatEncoder enc(*rt->tokenizer, ChatTemplateKind::kMistral);
  const auto& q8w = ref["q8_0_weights"]["greedy"];
  const auto& f32 = ref["f32"]["greedy"];
  ASSERT_EQ(q8w.size(), 4u);
  ASSERT_EQ(f32.size(), 4u);
  for (size_t p = 0; p < q8w.size(); ++p) {
    const auto& g = q8w[p];
    std::vector<ChatMessage> chat;
    const auto system = g["system"].get<std::string>();
    if (!system.empty()) chat.push_back({"system", system});
    chat.push_back({"user", g["prompt"].get<std::string>()});
    const std::vector<int32_t> prompt = enc.encode(chat, true);
    ASSERT_EQ(prompt, g["prompt_ids"].get<std::vector<int32_t>>()) << g["prompt"];
    ASSERT_EQ(g["greedy"].size(), 32u);
    rt->session->reset();
    ASSERT_TRUE(rt->session->eval(prompt).ok());
    std::vector<int32_t> out;
    for (size_t i = 0; i < g["greedy"].size(); ++i) {
      const int32_t next = argmax(rt->session->logits());
      out.push_back(next);
      ASSERT_TRUE(rt->session->eval({&next, 1}).ok());
    }
    // Our Q8_0 file rounds activations as well as weights, so at a near-tie it may follow
    // either PyTorch run: the one on Q8_0-rounded weights or the one on the trained weights.
    const auto a = agreement(out, g, rt->tokenizer->eos());
    const auto b = agreement(out, f32[p], rt->tokenizer->eos());
    EXPECT_TRUE(a.ok || b.ok) << g["prompt"] << ": differs from PyTorch (Q8_0 weights) at step "
                              << a.same << " and from PyTorch (F32) at step " << b.same
                              << " (PyTorch: " << g["text"] << ")";
    std::printf(
        "%s%s: %zu of 32 greedy tokens equal PyTorch Q8_0 weights' (answer ends at %zu), "
        "%zu PyTorch F32's (ends at %zu)\n",
        g["system"].get<std::string>().empty() ? "" : "(system prompt) ",
        g["prompt"].get<std::string>().c_str(), a.same, a.eos, b.same, b.eos);
  }
}

TEST(ShippedDemoModel, RoutingIsNotUniform) {
  const auto ref = reference();
  const auto rt = open_demo();
  ASSERT_TRUE(rt);
  auto queue = rt->bus.subscribe(1 << 16);
  const auto tokens = ref["tokens"].get<std::vector<int32_t>>();
  ChunkPerplexityOptions o;
  o.n_ctx = ref["n_ctx"];
  o.bos_id = rt->tokenizer->bos();
  ASSERT_TRUE(chunk_perplexity(*rt->session, tokens, o).ok());
  std::vector<Event> events;
  queue->drain(events);
  RoutingStats stats;
  for (const Event& e : events)
    if (const auto* r = std::get_if<RoutingEvent>(&e)) stats.add(*r);
  const auto want = ref["q8_0_weights"]["routing_entropy_bits"].get<std::vector<double>>();
  ASSERT_EQ(stats.n_layer(), static_cast<int>(want.size()));
  for (int l = 0; l < stats.n_layer(); ++l) {
    std::printf("layer %d: routing entropy %.3f bits (PyTorch %.3f; uniform 3)\n", l,
                stats.entropy_bits(l), want[static_cast<size_t>(l)]);
    EXPECT_LT(stats.entropy_bits(l), 3.0 - 0.02) << "layer " << l;
    EXPECT_NEAR(stats.entropy_bits(l), want[static_cast<size_t>(l)], 0.1) << "layer " << l;
  }
}

}  // namespace
}  // namespace moe
