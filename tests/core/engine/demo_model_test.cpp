// The forward pass on a generated Mixtral-shaped model with llama.cpp's Q4_K_M mix (Q4_K and
// Q6_K weights, Q8_K activations, the bundled 32000-token vocabulary): finite logits, batched
// prefill = token-by-token decode, results independent of the thread count.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/deploy/assemble.h"
#include "core/model/model_generator.h"

namespace moe {
namespace {

std::string demo_path() {
  const std::string path = std::string(MOE_BINARY_DIR) + "/engine_test_demo_q4_k_m.gguf";
  if (!std::filesystem::exists(path)) {
    GenerateOptions o;
    o.preset = model_preset("demo").value();
    o.mix = WeightMix::kQ4_K_M;
    auto r = generate_model(o, path);
    EXPECT_TRUE(r.ok()) << r.message();
  }
  return path;
}

std::vector<float> last_logits(Backend& rt) {
  auto l = rt.session->logits();
  return {l.end() - rt.model->hparams().n_vocab, l.end()};
}

Result<std::unique_ptr<Backend>> open(int threads, int n_ctx, int max_batch) {
  Deployment d;
  d.model_path = demo_path();
  d.n_threads = threads;
  d.n_ctx = n_ctx;
  d.max_batch = max_batch;
  return assemble(d);
}

TEST(DemoModelForward, Q4KMPrefillEqualsDecodeAndIsFinite) {
  auto b = open(2, 256, 32);
  ASSERT_TRUE(b.ok()) << b.message();
  Backend* rt = b->get();
  EXPECT_EQ(rt->model->weight_types(), "mixed Q4_K/Q6_K");
  const std::vector<int32_t> toks =
      rt->tokenizer->encode("the patient reports mild fever and a dry cough", true, false);
  ASSERT_GT(toks.size(), 5u);
  ASSERT_TRUE(rt->session->eval(toks, /*all_logits=*/true).ok());
  const int V = rt->model->hparams().n_vocab;
  const std::vector<float> batch(rt->session->logits().begin(), rt->session->logits().end());
  for (float v : batch) ASSERT_TRUE(std::isfinite(v));
  rt->session->reset();
  double worst = 0;
  for (size_t p = 0; p < toks.size(); ++p) {
    ASSERT_TRUE(rt->session->eval({&toks[p], 1}).ok());
    const auto one = last_logits(*rt);
    double max_diff = 0, max_ref = 0;
    for (int v = 0; v < V; ++v) {
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(one[v]) - batch[p * V + v]));
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(batch[p * V + v])));
    }
    worst = std::max(worst, max_diff / max_ref);
  }
  // Same maths, different kernels (matmul_rows vs matvec_rows): float summation order only.
  EXPECT_LE(worst, 1e-4);
}

TEST(DemoModelForward, ThreadCountDoesNotChangeGreedyDecode) {
  std::vector<std::vector<int32_t>> runs;
  for (int threads : {1, 3}) {
    auto b = open(threads, 256, 16);
    ASSERT_TRUE(b.ok()) << b.message();
    Backend* rt = b->get();
    std::vector<int32_t> toks = rt->tokenizer->encode("dose of the patient", true, false);
    ASSERT_TRUE(rt->session->eval(toks).ok());  // shorter than max_batch: one prefill call
    std::vector<int32_t> out;
    for (int i = 0; i < 12; ++i) {
      const auto l = rt->session->logits();
      const int32_t next = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
      out.push_back(next);
      ASSERT_TRUE(rt->session->eval({&next, 1}).ok());
    }
    runs.push_back(out);
  }
  EXPECT_EQ(runs[0], runs[1]);
}

}  // namespace
}  // namespace moe
