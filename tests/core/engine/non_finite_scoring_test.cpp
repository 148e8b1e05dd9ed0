// Perplexity of a model whose logits are not finite used to come out as `nan` (exit 0): both
// scoring methods now stop at the first token whose negative log-likelihood is NaN or Inf.
#include <gtest/gtest.h>

#include <cmath>

#include "core/deploy/assemble.h"
#include "core/engine/perplexity.h"
#include "core/engine/scoring.h"
#include "tests/core/golden_variant.h"

namespace moe {
namespace {

std::unique_ptr<Backend> open(const std::string& path) {
  Deployment d;
  d.model_path = path;
  d.n_threads = 2;
  d.n_ctx = 128;
  auto b = assemble(d);
  EXPECT_TRUE(b.ok()) << b.message();
  return b.ok() ? std::move(b).value() : nullptr;
}

std::vector<int32_t> tokens(int n) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) t[static_cast<size_t>(i)] = 3 + (i * 37) % 290;
  return t;
}

TEST(NonFiniteScoring, NanLogitsFailBothPerplexityMethods) {
  // Row 17 of the LM head is NaN: every position's logits hold a NaN.
  const std::string path = test::write_golden_variant(
      "nan_output_row_ppl.gguf", [](const std::string& n, std::vector<float>& v) {
        if (n == "output.weight") {
          for (size_t i = 64 * 17; i < 64 * 18; ++i) v[i] = std::nanf("");
        }
      });
  auto b = open(path);
  ASSERT_TRUE(b);
  const std::vector<int32_t> text = tokens(256);
  auto windows = score_tokens(*b->session, text, 64);
  ASSERT_FALSE(windows.ok());
  EXPECT_EQ(windows.message(),
            "the model produced non-finite values at token 1 of the text (its negative "
            "log-likelihood is NaN; the weights or settings overflow, or the model gives the "
            "token probability 0): no perplexity");
  ChunkPerplexityOptions o;
  o.n_ctx = 64;
  auto chunks = chunk_perplexity(*b->session, text, o);
  ASSERT_FALSE(chunks.ok());
  // The first scored token of chunk 1: position n_ctx / 2 + 1.
  EXPECT_NE(chunks.message().find("non-finite values at token 33 of the text"), std::string::npos)
      << chunks.message();
}

TEST(NonFiniteScoring, ATargetWithProbabilityZeroIsInfNotAFigure) {
  std::vector<float> logits{0.0f, 1.0f, -INFINITY};
  EXPECT_TRUE(std::isinf(negative_log_likelihood(logits, 2)));
  EXPECT_TRUE(std::isfinite(negative_log_likelihood(logits, 1)));
  logits[0] = INFINITY;
  EXPECT_TRUE(std::isnan(negative_log_likelihood(logits, 1)));
}

}  // namespace
}  // namespace moe
