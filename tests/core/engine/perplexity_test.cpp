// llama.cpp's perplexity method (core/engine/perplexity.h) on the golden model against
// transformers scoring the same chunks (tools/make_perplexity_golden.py ->
// mixtral_tiny_perplexity.json): the tokens of the text, the running PPL after every chunk and
// the final +/-. Tolerance: the F32 forward pass matches transformers' logits to ~1e-5
// relative (golden_mixtral_test), so the PPL agrees to far better than 1e-4 relative.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <fstream>

#include "core/deploy/assemble.h"
#include "core/engine/perplexity.h"

namespace moe {
namespace {

const std::string kDir = std::string(MOE_FIXTURE_DIR) + "/golden/";

struct Reference {
  std::string text;
  int n_ctx = 0;
  std::vector<int32_t> tokens;
  std::vector<double> ppl, ppl_error;  // after 1, 2, ... chunks
  std::vector<int> scored;
};

Reference load_reference() {
  std::ifstream f(kDir + "mixtral_tiny_perplexity.json");
  EXPECT_TRUE(f.good());
  const auto j = nlohmann::json::parse(f);
  Reference r;
  r.text = j["text"];
  r.n_ctx = j["n_ctx"];
  r.tokens = j["tokens"].get<std::vector<int32_t>>();
  for (const auto& c : j["running"]) {
    r.ppl.push_back(c["ppl"]);
    r.ppl_error.push_back(c["ppl_error"]);
    r.scored.push_back(c["scored"]);
  }
  return r;
}

std::unique_ptr<Backend> open_golden(int max_batch = 64) {
  Deployment d;
  d.model_path = kDir + "mixtral_tiny_f32.gguf";
  d.n_threads = 2;
  d.n_ctx = 128;
  d.max_batch = max_batch;
  auto rt = assemble(d);
  EXPECT_TRUE(rt.ok()) << rt.message();
  return std::move(rt).value();
}

TEST(NllStats, PerplexityAndItsUncertainty) {
  NllStats s;
  EXPECT_EQ(s.perplexity(), 0.0);
  EXPECT_EQ(s.perplexity_error(), 0.0);
  for (double v : {1.0, 2.0, 3.0}) s.add(v);
  EXPECT_EQ(s.n, 3);
  EXPECT_DOUBLE_EQ(s.mean(), 2.0);
  EXPECT_DOUBLE_EQ(s.perplexity(), std::exp(2.0));
  // Var = mean(x²) - mean² = 14/3 - 4 = 2/3; ± = e² · sqrt(Var / (n - 1)) = e² / sqrt(3).
  EXPECT_NEAR(s.perplexity_error(), std::exp(2.0) / std::sqrt(3.0), 1e-12);
  NllStats same;
  same.add(0.5);
  same.add(0.5);
  EXPECT_EQ(same.perplexity_error(), 0.0);  // no spread: no estimate
}

TEST(ChunkPerplexity, TokenizesTheTextAsTheReferenceDoes) {
  const Reference ref = load_reference();
  const auto backend = open_golden();
  Backend& rt = *backend;
  // BOS + text, special tokens not parsed: what llama-perplexity tokenizes.
  EXPECT_EQ(rt.tokenizer->encode(ref.text, true, false), ref.tokens);
}

TEST(ChunkPerplexity, MatchesTransformersChunkByChunk) {
  const Reference ref = load_reference();
  ASSERT_GE(ref.ppl.size(), 9u);  // the text fills 12 chunks of 128, 79 tokens left over
  const auto backend = open_golden();
  Backend& rt = *backend;
  ChunkPerplexityOptions o;
  o.n_ctx = ref.n_ctx;
  o.bos_id = rt.tokenizer->bos();
  int calls = 0;
  auto r = chunk_perplexity(*rt.session, ref.tokens, o, [&](const ChunkPerplexity& so_far) {
    EXPECT_EQ(so_far.n_chunks, ++calls);
  });
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(calls, static_cast<int>(ref.ppl.size()));
  ASSERT_EQ(r->n_chunks, static_cast<int>(ref.ppl.size()));  // n_tokens / n_ctx, tail unused
  EXPECT_EQ(r->n_tokens, static_cast<int>(ref.tokens.size()));
  EXPECT_EQ(r->nll.n, r->n_chunks * (ref.n_ctx / 2 - 1));  // 63 scored per chunk of 128
  EXPECT_EQ(r->nll.n, ref.scored.back());
  double worst = 0;
  for (size_t c = 0; c < ref.ppl.size(); ++c) {
    const double rel = std::fabs(r->running[c] - ref.ppl[c]) / ref.ppl[c];
    worst = std::max(worst, rel);
    EXPECT_LE(rel, 1e-5) << "after chunk " << c + 1;
  }
  EXPECT_NEAR(r->nll.perplexity(), ref.ppl.back(), 1e-5 * ref.ppl.back());
  EXPECT_NEAR(r->nll.perplexity_error(), ref.ppl_error.back(), 1e-4 * ref.ppl_error.back());
  std::printf("PPL %.6f +/- %.6f, transformers %.6f +/- %.6f; worst running rel diff %.3g\n",
              r->nll.perplexity(), r->nll.perplexity_error(), ref.ppl.back(), ref.ppl_error.back(),
              worst);
}

TEST(ChunkPerplexity, ChunkLimitAndSmallBatchesGiveTheSameFigures) {
  const Reference ref = load_reference();
  const auto backend = open_golden(/*max_batch=*/5);
  Backend& rt = *backend;  // batches straddle position n_ctx/2
  ChunkPerplexityOptions o;
  o.n_ctx = ref.n_ctx;
  o.max_chunks = 3;
  o.bos_id = rt.tokenizer->bos();
  auto r = chunk_perplexity(*rt.session, ref.tokens, o);
  ASSERT_TRUE(r.ok()) << r.message();
  ASSERT_EQ(r->n_chunks, 3);
  EXPECT_EQ(r->nll.n, ref.scored[2]);
  EXPECT_NEAR(r->nll.perplexity(), ref.ppl[2], 1e-5 * ref.ppl[2]);
  EXPECT_NEAR(r->nll.perplexity_error(), ref.ppl_error[2], 1e-4 * ref.ppl_error[2]);
}

TEST(ChunkPerplexity, EveryChunkStartsWithBos) {
  // Without the BOS in front of chunks 2.., their first token is the text's own, the model
  // sees a different context and every later chunk's figure changes.
  const Reference ref = load_reference();
  const auto backend = open_golden();
  Backend& rt = *backend;
  ChunkPerplexityOptions o;
  o.n_ctx = ref.n_ctx;
  o.max_chunks = 2;
  ASSERT_NE(ref.tokens[static_cast<size_t>(ref.n_ctx)], rt.tokenizer->bos());
  auto keep = chunk_perplexity(*rt.session, ref.tokens, o);  // bos_id = -1: text's token
  ASSERT_TRUE(keep.ok());
  EXPECT_NEAR(keep->running[0], ref.ppl[0], 1e-4 * ref.ppl[0]);  // chunk 1 starts with BOS
  EXPECT_GT(std::fabs(keep->running[1] - ref.ppl[1]), 1e-3 * ref.ppl[1]);
}

TEST(ChunkPerplexity, RefusesTooShortTextsAndChunksBeyondTheContext) {
  const Reference ref = load_reference();
  const auto backend = open_golden();
  Backend& rt = *backend;
  ChunkPerplexityOptions o;
  o.n_ctx = 128;
  const std::vector<int32_t> short_text(ref.tokens.begin(), ref.tokens.begin() + 255);
  auto r = chunk_perplexity(*rt.session, short_text, o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("need at least 256 tokens"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("only 255"), std::string::npos) << r.message();
  EXPECT_EQ(chunk_perplexity_min_tokens(128), 256);
  o.n_ctx = 256;  // the golden model's context is 128
  auto big = chunk_perplexity(*rt.session, ref.tokens, o);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.message().find("128"), std::string::npos) << big.message();
}

TEST(ChunkPerplexity, StopEndsAfterAWholeChunk) {
  const Reference ref = load_reference();
  const auto backend = open_golden();
  Backend& rt = *backend;
  ChunkPerplexityOptions o;
  o.n_ctx = ref.n_ctx;
  std::atomic<bool> stop{false};
  auto r = chunk_perplexity(
      *rt.session, ref.tokens, o, [&](const ChunkPerplexity&) { stop = true; }, &stop);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->n_chunks, 1);
  EXPECT_EQ(r->nll.n, ref.n_ctx / 2 - 1);
}

}  // namespace
}  // namespace moe
