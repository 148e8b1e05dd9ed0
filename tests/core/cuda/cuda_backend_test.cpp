// --backend cpu|cuda|auto through the assembly place, and the CUDA expert executor against the
// CPU one: logits of a generated Mixtral-shaped model (prefill batch, then decode) compared per
// weight mix. Without a device the GPU comparisons skip with the reason, and the CPU-side
// answers (auto falls back to the CPU and says why; cuda is a clear error) are checked.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/cuda/cuda_backend.h"
#include "core/cuda/cuda_info.h"
#include "core/deploy/assemble.h"
#include "core/model/model_generator.h"
#include "tests/core/cuda/cuda_test_support.h"

namespace moe {
namespace {

std::string demo_model(WeightMix mix) {
  const std::string path = std::string(MOE_BINARY_DIR) + "/cuda_test_demo_" +
                           std::string(weight_mix_name(mix)) + ".gguf";
  if (!std::filesystem::exists(path)) {
    GenerateOptions o;
    o.preset = model_preset("demo").value();
    o.mix = mix;
    auto r = generate_model(o, path);
    EXPECT_TRUE(r.ok()) << r.message();
  }
  return path;
}

Deployment deployment(WeightMix mix, ComputeBackend backend, int max_batch = 16) {
  Deployment d;
  d.model_path = demo_model(mix);
  d.n_threads = 2;
  d.n_ctx = 128;
  d.max_batch = max_batch;
  d.backend = backend;
  return d;
}

bool has_device() {
  return !cuda_inventory().devices.empty();
}

TEST(CudaBackend, ParsesTheBackendNames) {
  EXPECT_EQ(parse_compute_backend("cpu").value(), ComputeBackend::kCpu);
  EXPECT_EQ(parse_compute_backend("cuda").value(), ComputeBackend::kCuda);
  EXPECT_EQ(parse_compute_backend("auto").value(), ComputeBackend::kAuto);
  auto bad = parse_compute_backend("gpu");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("cpu, cuda or auto"), std::string::npos) << bad.message();
}

TEST(CudaBackend, AutoPicksCudaExactlyWhenADeviceIsPresentAndSaysWhy) {
  auto b = assemble(deployment(WeightMix::kQ4_0, ComputeBackend::kAuto));
  ASSERT_TRUE(b.ok()) << b.message();
  const std::string line = (*b)->describe();
  if (has_device()) {
    EXPECT_NE(line.find("auto: CUDA"), std::string::npos) << line;
    EXPECT_EQ(std::string((*b)->executor().name()).rfind("CUDA ", 0), 0u) << line;
  } else {
    EXPECT_NE(line.find("auto: CPU (no CUDA device"), std::string::npos) << line;
    EXPECT_EQ((*b)->executor().name(), "local CPU");
  }
}

TEST(CudaBackend, CudaWithoutADeviceIsAClearError) {
  if (has_device()) GTEST_SKIP() << "a CUDA device is present: the error path does not apply";
  auto b = assemble(deployment(WeightMix::kQ4_0, ComputeBackend::kCuda));
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.message().find("backend cuda"), std::string::npos) << b.message();
#ifdef MOE_HAVE_CUDA
  EXPECT_NE(b.message().find("not present"), std::string::npos) << b.message();
#else
  EXPECT_NE(b.message().find("no CUDA backend"), std::string::npos) << b.message();
#endif
}

TEST(CudaBackend, VramBudgetWithTheCpuBackendIsRejected) {
  Deployment d = deployment(WeightMix::kQ4_0, ComputeBackend::kCpu);
  d.vram_budget = RamBudget{0, 50};
  auto b = assemble(d);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.message().find("VRAM budget needs --backend cuda"), std::string::npos) << b.message();
}

// Logits after a prefill batch and after each of a few decoded tokens, CPU vs CUDA.
// Tolerance (relative to the largest |logit|): on the mat-vec path the quantized activations
// are the same bytes on both sides and the block sums are exact integers; float summation
// order and fused multiply-adds differ, which 4 layers of residual stream amplify to ~1e-4
// relative: 2e-3 leaves room while still catching a wrong block layout (errors of order 1).
// The GEMM path (long prompts) multiplies f16 activations with f16 weight tiles where the CPU
// uses Q8 activations: both are ~3e-3-relative roundings of the same values, so 2e-2 there.
struct Run {
  std::optional<RamBudget> vram;
  int prompt_tokens = 8, max_batch = 16;
  double tol = 2e-3;
};

void compare_logits(WeightMix mix, const Run& run) {
  MOE_SKIP_WITHOUT_CUDA_DEVICE();
  auto cpu = assemble(deployment(mix, ComputeBackend::kCpu, run.max_batch));
  Deployment dg = deployment(mix, ComputeBackend::kCuda, run.max_batch);
  dg.vram_budget = run.vram;
  auto gpu = assemble(dg);
  ASSERT_TRUE(cpu.ok()) << cpu.message();
  ASSERT_TRUE(gpu.ok()) << gpu.message();
  const int n_vocab = (*cpu)->model->hparams().n_vocab;
  std::vector<int32_t> prompt{1};
  while (static_cast<int>(prompt.size()) < run.prompt_tokens) {
    prompt.push_back(static_cast<int32_t>(100 + prompt.size() * 7919 % 30000));
  }
  std::vector<int32_t> next{2, 3, 4, 5};
  const auto check = [&](const std::string& what) {
    auto a = (*cpu)->session->logits(), b = (*gpu)->session->logits();
    ASSERT_EQ(a.size(), b.size());
    double scale = 0, worst = 0;
    for (size_t i = a.size() - static_cast<size_t>(n_vocab); i < a.size(); ++i) {
      scale = std::max(scale, std::fabs(static_cast<double>(a[i])));
      worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
    }
    EXPECT_GT(scale, 0.0) << what;
    EXPECT_LE(worst, run.tol * scale) << what << ": max |CPU - CUDA| " << worst << " of " << scale;
  };
  ASSERT_TRUE((*cpu)->session->eval(prompt).ok());
  const Status st = (*gpu)->session->eval(prompt);
  ASSERT_TRUE(st.ok()) << st.message();
  check("prefill");
  for (int32_t t : next) {
    ASSERT_TRUE((*cpu)->session->eval(std::vector<int32_t>{t}).ok());
    ASSERT_TRUE((*gpu)->session->eval(std::vector<int32_t>{t}).ok());
    check("decode token " + std::to_string(t));
  }
  // The path the test means to cover was taken: "N GEMM groups" with N > 0 or == 0.
  const std::string on = (*gpu)->executor().computed_on();
  const bool gemm = on.find(" 0 GEMM groups") == std::string::npos;
  EXPECT_NE(on.find("GEMM groups"), std::string::npos) << on;
  EXPECT_EQ(gemm, run.prompt_tokens >= 64) << on;
}

TEST(CudaBackend, LogitsMatchTheCpuQ4_0) {
  compare_logits(WeightMix::kQ4_0, {});
}

TEST(CudaBackend, LogitsMatchTheCpuQ8_0) {
  compare_logits(WeightMix::kQ8_0, {});
}

TEST(CudaBackend, LogitsMatchTheCpuQ4_K_M) {
  compare_logits(WeightMix::kQ4_K_M, {});
}

// A quarter of the experts in VRAM: every layer evicts and uploads on demand; same logits.
TEST(CudaBackend, LogitsMatchTheCpuWithAQuarterOfTheExpertsInVram) {
  compare_logits(WeightMix::kQ4_K_M, {RamBudget{0, 25}});
}

// A 64-token prompt in one batch: ~16 tokens per expert, so groups take the cuBLAS GEMM path.
TEST(CudaBackend, LogitsMatchTheCpuOnTheGemmPrefillPath) {
  compare_logits(WeightMix::kQ4_0, {std::nullopt, 64, 64, 2e-2});
  compare_logits(WeightMix::kQ4_K_M, {std::nullopt, 64, 64, 2e-2});
}

}  // namespace
}  // namespace moe
