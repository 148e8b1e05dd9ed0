// CpuExpertExecutor against a plain float SwiGLU reference on the golden model's experts.
#include "core/store/mapped_expert_store.h"
#include "core/engine/cpu_expert_executor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/quant/quant.h"

namespace moe {
namespace {

const std::string kDir = std::string(MOE_FIXTURE_DIR) + "/golden/";

std::vector<float> dequant(const MatrixView& m) {
  std::vector<float> out(static_cast<size_t>(m.n_in * m.n_out));
  for (int64_t r = 0; r < m.n_out; ++r) {
    dequantize_row(m.type, m.row(r), out.data() + r * m.n_in, m.n_in);
  }
  return out;
}

// y = down(silu(gate x) * up x) with float weights and activations.
std::vector<float> reference_expert(const ExpertWeights& e, const float* x) {
  const auto g = dequant(e.gate), u = dequant(e.up), d = dequant(e.down);
  const int64_t n_embd = e.gate.n_in, n_ff = e.gate.n_out;
  std::vector<float> h(static_cast<size_t>(n_ff)), y(static_cast<size_t>(n_embd));
  for (int64_t r = 0; r < n_ff; ++r) {
    double a = 0, b = 0;
    for (int64_t c = 0; c < n_embd; ++c) {
      a += static_cast<double>(g[r * n_embd + c]) * x[c];
      b += static_cast<double>(u[r * n_embd + c]) * x[c];
    }
    h[r] = static_cast<float>(a / (1 + std::exp(-a)) * b);
  }
  for (int64_t r = 0; r < n_embd; ++r) {
    double a = 0;
    for (int64_t c = 0; c < n_ff; ++c) a += static_cast<double>(d[r * n_ff + c]) * h[c];
    y[r] = static_cast<float>(a);
  }
  return y;
}

void check(const std::string& file, float tol) {
  auto m = Model::load(kDir + file);
  ASSERT_TRUE(m.ok()) << m.message();
  const Model& model = **m;
  ThreadPool pool(3);
  MappedExpertStore store(model);
  auto ex = CpuExpertExecutor::create(model, store, pool, 4);
  ASSERT_TRUE(ex.ok());
  const int n_embd = model.hparams().n_embd, n_tok = 3;
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(static_cast<size_t>(n_tok * n_embd)), out(x.size()), want(x.size());
  for (auto& v : x) v = nd(rng);
  for (size_t i = 0; i < out.size(); ++i) out[i] = want[i] = 0.1f * static_cast<float>(i % 7);
  // Grouped by expert; token 0 twice, token 1 once with weight 1, token 2 under two experts.
  const std::vector<ExpertAssignment> as = {
      {0, 1, 0.3f}, {2, 1, 0.7f}, {1, 2, 1.0f}, {0, 3, 0.7f}, {2, 3, 0.3f}};
  for (const auto& a : as) {
    const auto y = reference_expert(model.layer(1).experts[static_cast<size_t>(a.expert)],
                                    x.data() + a.token * n_embd);
    for (int c = 0; c < n_embd; ++c)
      want[static_cast<size_t>(a.token * n_embd + c)] += a.weight * y[c];
  }
  ExpertBatch b;
  b.layer = 1;
  b.n_tokens = n_tok;
  b.n_embd = n_embd;
  b.x = x.data();
  b.out = out.data();
  b.assignments = as;
  ASSERT_TRUE((*ex)->run(b).ok());
  float max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(want[i]));
    max_diff = std::max(max_diff, std::fabs(out[i] - want[i]));
  }
  EXPECT_LE(max_diff / max_ref, tol) << file;

  // Bad assignments and oversized batches are errors, not crashes.
  const std::vector<ExpertAssignment> bad = {{0, 9, 1.0f}};
  b.assignments = bad;
  EXPECT_FALSE((*ex)->run(b).ok());
  b.n_tokens = 5;  // more than the executor was sized for
  b.assignments = as;
  EXPECT_FALSE((*ex)->run(b).ok());
  b.n_tokens = n_tok;
  b.layer = 2;  // the model has 2
  EXPECT_FALSE((*ex)->run(b).ok());
}

TEST(CpuExpertExecutor, MatchesFloatReferenceF32) {
  check("mixtral_tiny_f32.gguf", 1e-5f);
}
// Q8_0 weights are dequantized exactly by the reference; the rest is activation quantization.
TEST(CpuExpertExecutor, MatchesFloatReferenceQ8_0) {
  check("mixtral_tiny_q8_0.gguf", 2e-2f);
}

}  // namespace
}  // namespace moe
