// Per-microarchitecture kernel choice (core/quant/kernel_tuning.h). Every variant a tuning can
// select runs here: a type tuned to 256 or 512 bits gives exactly (bit for bit) what the AVX2
// or AVX-512 level forced for every type gives — so a calibrated choice never runs a path the
// kernel tests do not cover. A forced level (MOE_SIMD / set_simd_level) overrides the tuning;
// the cache file is reused on the same CPU and refused for another; concurrent first starts
// agree.
#include "core/quant/kernel_tuning.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/quant/cpu_features.h"
#include "core/quant/quant.h"

namespace moe {
namespace {

namespace fs = std::filesystem;

struct AutoLevel {
  AutoLevel() { set_simd_level_auto(); }
  ~AutoLevel() {
    clear_kernel_tuning();
    set_simd_level_auto();
  }
};

struct Case {
  std::vector<uint8_t> w, act;
  size_t rb = 0;
  int64_t n = 512, rows = 13, ntok = 3;
  std::vector<uint8_t> acts;  // ntok activation rows
};

Case make_case(GgmlType t, uint32_t seed) {
  Case c;
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  c.rb = row_bytes(t, c.n);
  c.w.resize(c.rb * static_cast<size_t>(c.rows));
  std::vector<float> row(static_cast<size_t>(c.n));
  for (int64_t r = 0; r < c.rows; ++r) {
    for (float& v : row) v = d(rng) * 0.1f;
    EXPECT_TRUE(quantize_row(t, row.data(), c.w.data() + c.rb * static_cast<size_t>(r), c.n));
  }
  const size_t ab = row_bytes(vec_dot_type(t), c.n);
  c.acts.resize(ab * static_cast<size_t>(c.ntok));
  for (int64_t k = 0; k < c.ntok; ++k) {
    for (float& v : row) v = d(rng);
    quantize_activation(t, row.data(), c.acts.data() + ab * static_cast<size_t>(k), c.n);
  }
  c.act.assign(c.acts.begin(), c.acts.begin() + static_cast<std::ptrdiff_t>(ab));
  return c;
}

// matvec, matmul and vec_dot outputs of the active kernels, as raw floats.
std::vector<float> outputs(GgmlType t, const Case& c) {
  std::vector<float> out(static_cast<size_t>(c.rows * (1 + c.ntok) + 1));
  matvec_rows(t, c.w.data(), c.rb, c.n, 0, c.rows, c.act.data(), out.data());
  matmul_rows(t, c.w.data(), c.rb, c.n, 0, c.rows, c.acts.data(),
              row_bytes(vec_dot_type(t), c.n), c.ntok, out.data() + c.rows,
              static_cast<size_t>(c.rows));
  out.back() = vec_dot(t, c.n, c.w.data(), c.act.data());
  return out;
}

std::vector<float> forced(SimdLevel level, GgmlType t, const Case& c) {
  set_simd_level(level);
  auto out = outputs(t, c);
  set_simd_level_auto();
  return out;
}

KernelTuning tuning_all(int width) {
  KernelTuning all = calibrate_kernels();
  for (KernelChoice& k : all.choices) k.width = width;
  return all;
}

TEST(KernelTuning, EveryVariantIsExactlyItsLevelsKernel) {
  if (best_simd_level() < SimdLevel::kAvx512) GTEST_SKIP() << "no AVX-512 here: nothing to choose";
  AutoLevel guard;
  const KernelTuning measured = calibrate_kernels();
  ASSERT_FALSE(measured.choices.empty());
  for (const KernelChoice& choice : measured.choices) {
    const GgmlType t = choice.type;
    EXPECT_GT(choice.gb_per_s_256, 0) << type_name(t);
    EXPECT_GT(choice.gb_per_s_512, 0) << type_name(t);
    const Case c = make_case(t, 11 + static_cast<uint32_t>(t));
    const auto narrow = forced(SimdLevel::kAvx2, t, c), wide = forced(SimdLevel::kAvx512, t, c);
    for (const int width : {256, 512}) {
      KernelTuning one;
      one.choices.push_back({t, width, 1, 1});
      apply_kernel_tuning(one);
      const auto got = outputs(t, c);
      const auto& want = width == 256 ? narrow : wide;
      ASSERT_EQ(got.size(), want.size());
      EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
          << type_name(t) << " at " << width << " bits";
    }
  }
}

TEST(KernelTuning, AForcedLevelOverridesTheTuning) {
  if (best_simd_level() < SimdLevel::kAvx512) GTEST_SKIP() << "no AVX-512 here";
  AutoLevel guard;
  apply_kernel_tuning(tuning_all(256));
  EXPECT_NE(kernel_summary().find("256-bit: "), std::string::npos) << kernel_summary();
  const Case c = make_case(GgmlType::Q4_0, 3);
  const auto wide = forced(SimdLevel::kAvx512, GgmlType::Q4_0, c);
  set_simd_level(SimdLevel::kAvx512);
  EXPECT_EQ(kernel_summary(), "avx512 (forced)");
  const auto got = outputs(GgmlType::Q4_0, c);
  EXPECT_EQ(std::memcmp(got.data(), wide.data(), got.size() * sizeof(float)), 0);
}

TEST(KernelTuning, CacheFileIsForThisCpuAndThisKernelSetOnly) {
  const CpuIdentity id = cpu_identity();
  EXPECT_FALSE(id.vendor.empty());
  EXPECT_EQ(id.key().size(), 16u);
  KernelTuning t;
  t.choices = best_simd_level() >= SimdLevel::kAvx512
                  ? std::vector<KernelChoice>{{GgmlType::Q4_0, 256, 10.5, 9.0}}
                  : std::vector<KernelChoice>{};
  const std::string text = kernel_tuning_to_json(t, id);
  auto back = kernel_tuning_from_json(text, id);
  ASSERT_TRUE(back.ok()) << back.message();
  ASSERT_EQ(back->choices.size(), t.choices.size());
  if (!t.choices.empty()) {
    EXPECT_EQ(back->choices[0].width, 256);
    EXPECT_EQ(back->choices[0].gb_per_s_256, 10.5);
  }
  CpuIdentity other = id;
  other.model += 1;
  auto refused = kernel_tuning_from_json(text, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("another CPU"), std::string::npos);
  std::string old = text;
  old.replace(old.find("\"kernel_set_version\": 1"), 23, "\"kernel_set_version\": 0");
  EXPECT_FALSE(kernel_tuning_from_json(old, id).ok());
  for (const char* bad : {"", "{", "[]", "{\"kernel_set_version\": 1}"}) {
    EXPECT_FALSE(kernel_tuning_from_json(bad, id).ok()) << bad;
  }
}

// ensure_kernel_tuning() runs once per process: each case is a child process with its own
// cache folder. Two children started together: one measures, the other waits on the lock and
// reads the same choice from the file.
TEST(KernelTuning, FirstStartMeasuresAndCachesConcurrentStartsAgree) {
  if (best_simd_level() < SimdLevel::kAvx512) GTEST_SKIP() << "no AVX-512 here";
  const fs::path dir = fs::temp_directory_path() / ("moe_tuning_" + std::to_string(getpid()));
  fs::remove_all(dir);
  auto child = [&](const char* out_name) {
    const pid_t pid = fork();
    if (pid == 0) {
      setenv("MOE_CACHE_DIR", dir.c_str(), 1);
      unsetenv("MOE_SIMD");
      unsetenv("MOE_KERNEL_TUNING");
      set_simd_level_auto();
      const KernelTuning& t = ensure_kernel_tuning();
      std::ofstream(dir.string() + "/" + out_name) << t.source << "\n" << kernel_summary() << "\n";
      _exit(t.choices.empty() ? 1 : 0);
    }
    return pid;
  };
  fs::create_directories(dir);
  const pid_t a = child("a.txt"), b = child("b.txt");
  for (pid_t p : {a, b}) {
    int st = 0;
    ASSERT_EQ(waitpid(p, &st, 0), p);
    ASSERT_TRUE(WIFEXITED(st));
    EXPECT_EQ(WEXITSTATUS(st), 0);
  }
  auto read = [&](const char* name) {
    std::ifstream in(dir / name);
    std::string source, summary;
    std::getline(in, source);
    std::getline(in, summary);
    return std::pair{source, summary};
  };
  const auto ra = read("a.txt"), rb = read("b.txt");
  // Exactly one measured; both use the same kernels.
  const int measured = (ra.first.rfind("measured", 0) == 0) + (rb.first.rfind("measured", 0) == 0);
  EXPECT_EQ(measured, 1) << ra.first << " / " << rb.first;
  EXPECT_EQ(ra.second, rb.second);
  // A third start reads the cache.
  const pid_t c = child("c.txt");
  int st = 0;
  ASSERT_EQ(waitpid(c, &st, 0), c);
  EXPECT_EQ(read("c.txt").first.rfind("cache ", 0), 0u) << read("c.txt").first;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace moe
