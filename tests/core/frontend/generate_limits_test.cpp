// What Engine::generate refuses: a model whose logits are not finite (NaN / Inf weights, or
// weights so large that float overflows) used to answer "####" with exit 0; sampler settings
// outside their ranges (NaN temperature, top-p 7) were used unchecked. The app and moe-cli
// both go through generate(), so both get these errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/frontend/engine.h"
#include "tests/core/golden_variant.h"

namespace moe {
namespace {

std::unique_ptr<Engine> load(const std::string& path) {
  Deployment d;
  d.model_path = path;
  d.n_threads = 2;
  d.n_ctx = 128;
  auto e = Engine::load(d);
  EXPECT_TRUE(e.ok()) << e.message();
  return e.ok() ? std::move(*e) : nullptr;
}

GenerateRequest request(int n = 8) {
  GenerateRequest r;
  r.raw_prompt = "the patient has a fever";
  r.max_new_tokens = n;
  r.ignore_eos = true;
  r.sampler.temperature = 0;
  return r;
}

// `edit` names the model; generation must fail at the first answer token with the message.
void expect_non_finite_error(
    const std::string& name,
    const std::function<void(const std::string&, std::vector<float>&)>& edit) {
  auto e = load(test::write_golden_variant(name, edit));
  ASSERT_TRUE(e);
  std::string text;
  auto st = e->generate(request(), [&](std::string_view t) { text += t; });
  ASSERT_FALSE(st.ok()) << name << " answered '" << text << "'";
  EXPECT_NE(st.message().find("the model produced non-finite values at token 1 of the answer"),
            std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("weights or settings overflow"), std::string::npos);
  EXPECT_TRUE(text.empty()) << text;
}

TEST(GenerateLimits, NanWeightsStopTheAnswerWithAnError) {
  // One row of the LM head: one logit is NaN at every step.
  expect_non_finite_error("nan_output_row.gguf", [](const std::string& n, std::vector<float>& v) {
    if (n == "output.weight") {
      for (size_t i = 64 * 17; i < 64 * 18; ++i) v[i] = std::nanf("");
    }
  });
}

TEST(GenerateLimits, InfWeightsStopTheAnswerWithAnError) {
  // One element of a layer-0 attention projection: every later value is Inf or NaN.
  expect_non_finite_error("inf_attn.gguf", [](const std::string& n, std::vector<float>& v) {
    if (n == "blk.0.attn_q.weight") v[5] = std::numeric_limits<float>::infinity();
  });
}

TEST(GenerateLimits, OverflowingWeightsStopTheAnswerWithAnError) {
  // Finite but huge: V and the output projection at 1e30 overflow float (1e30 · 1e30 · x).
  expect_non_finite_error("huge_attn.gguf", [](const std::string& n, std::vector<float>& v) {
    if (n == "blk.0.attn_v.weight" || n == "blk.0.attn_output.weight") {
      for (float& x : v) x = 1e30f;
    }
  });
}

TEST(GenerateLimits, BadSamplerSettingsAndNegativeLengthsAreRefused) {
  auto e = load(test::kGoldenF32);
  ASSERT_TRUE(e);
  const auto error_of = [&](const std::function<void(GenerateRequest&)>& edit) {
    GenerateRequest r = request(2);
    r.sampler.temperature = 0.7f;
    edit(r);
    bool called = false;
    auto st = e->generate(r, [&](std::string_view) { called = true; });
    EXPECT_FALSE(called);
    return st.ok() ? std::string("(accepted)") : st.message();
  };
  EXPECT_EQ(error_of([](GenerateRequest& r) { r.sampler.temperature = std::nanf(""); }),
            "sampler: temperature = nan is outside [0, inf) (0: greedy)");
  EXPECT_EQ(error_of([](GenerateRequest& r) { r.sampler.top_p = 7; }),
            "sampler: top_p = 7 is outside [0, 1] (1: off)");
  EXPECT_NE(
      error_of([](GenerateRequest& r) { r.sampler.repeat_penalty = 0; }).find("repeat_penalty"),
      std::string::npos);
  EXPECT_EQ(error_of([](GenerateRequest& r) { r.max_new_tokens = -1; }),
            "generate: max_new_tokens = -1 is negative");
  // The same engine still answers a good request.
  auto ok = e->generate(request(3), [](std::string_view) {});
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(ok->generated_tokens, 3);
}

}  // namespace
}  // namespace moe
