// `moe-cli perplexity` end to end on the golden model: llama.cpp's method and output lines by
// default, checked against transformers scoring the same chunks
// (tests/fixtures/golden/mixtral_tiny_perplexity.json, tools/make_perplexity_golden.py).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using moe::cli_test::Output;
using moe::cli_test::run_cli;

const std::string kModel = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";

class CliPerplexity : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::ifstream f(std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_perplexity.json");
    ASSERT_TRUE(f.good());
    ref_ = nlohmann::json::parse(f);
    dir_ = fs::temp_directory_path() / ("moe_cli_ppl_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    text_ = (dir_ / "text.txt").string();
    std::ofstream(text_, std::ios::binary) << ref_["text"].get<std::string>();
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static double ref_ppl(int chunks) { return ref_["running"][chunks - 1]["ppl"]; }
  static double ref_err(int chunks) { return ref_["running"][chunks - 1]["ppl_error"]; }
  static nlohmann::json ref_;
  static fs::path dir_;
  static std::string text_;
};
nlohmann::json CliPerplexity::ref_;
fs::path CliPerplexity::dir_;
std::string CliPerplexity::text_;

TEST_F(CliPerplexity, PrintsLlamaCppLinesWithTheReferenceFigures) {
  const Output o = run_cli("perplexity -m " + kModel + " -f " + text_ + " -c 128 --chunks 8 -t 2");
  ASSERT_EQ(o.rc, 0) << o.err;
  // llama-perplexity's stdout: "[1]x.xxxx,[2]x.xxxx,...", then the final estimate.
  const std::regex line(
      R"(^((\[\d+\]\d+\.\d{4},){8})\nFinal estimate: PPL = (\d+\.\d{4}) \+/- (\d+\.\d{5})\n$)");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(o.out, m, line)) << o.out;
  const std::regex item(R"(\[(\d+)\](\d+\.\d{4}),)");
  const std::string progress = m[1];
  int k = 0;
  for (auto it = std::sregex_iterator(progress.begin(), progress.end(), item);
       it != std::sregex_iterator(); ++it) {
    ++k;
    EXPECT_EQ(std::stoi((*it)[1]), k);
    EXPECT_NEAR(std::stod((*it)[2]), ref_ppl(k), 1e-4 * ref_ppl(k) + 5e-5) << "chunk " << k;
  }
  EXPECT_EQ(k, 8);
  EXPECT_NEAR(std::stod(m[3]), ref_ppl(8), 1e-4 * ref_ppl(8) + 5e-5);
  EXPECT_NEAR(std::stod(m[4]), ref_err(8), 1e-3 * ref_err(8) + 5e-6);
  EXPECT_NE(o.err.find("8 chunks of 128"), std::string::npos) << o.err;
}

TEST_F(CliPerplexity, JsonUsesEveryChunkByDefault) {
  const int all = static_cast<int>(ref_["running"].size());
  const Output o = run_cli("perplexity -m " + kModel + " -f " + text_ + " -c 128 -t 2 --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["method"], "chunks");
  EXPECT_EQ(j["n_ctx"], 128);
  EXPECT_EQ(j["tokens"], ref_["tokens"].size());
  EXPECT_EQ(j["chunks"], all);
  EXPECT_EQ(j["scored"], ref_["running"][all - 1]["scored"]);
  EXPECT_NEAR(j["perplexity"].get<double>(), ref_ppl(all), 1e-4 * ref_ppl(all));
  EXPECT_NEAR(j["perplexity_error"].get<double>(), ref_err(all), 1e-3 * ref_err(all));
  EXPECT_NEAR(std::log(j["perplexity"].get<double>()), j["mean_nll"].get<double>(), 1e-9);
  ASSERT_EQ(j["chunk_perplexity"].size(), static_cast<size_t>(all));
  for (int c = 1; c <= all; ++c) {
    EXPECT_NEAR(j["chunk_perplexity"][c - 1].get<double>(), ref_ppl(c), 1e-4 * ref_ppl(c));
  }
}

TEST_F(CliPerplexity, DefaultContextIsReducedToTheModels) {
  // -c defaults to 512 (llama-perplexity's) and the golden model has 128: used with a note.
  const Output o = run_cli("perplexity -m " + kModel + " -f " + text_ + " --chunks 2 -t 2 --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["n_ctx"], 128);
  EXPECT_NEAR(j["perplexity"].get<double>(), ref_ppl(2), 1e-4 * ref_ppl(2));
  EXPECT_NE(o.err.find("reduced to the model's context"), std::string::npos) << o.err;
}

TEST_F(CliPerplexity, TooShortTextSaysHowManyTokensAreNeeded) {
  const std::string short_text = (dir_ / "short.txt").string();
  std::ofstream(short_text) << "The patient was admitted with fever.";
  const Output o = run_cli("perplexity -m " + kModel + " -f " + short_text + " -c 128 -t 2");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("you need at least 256 tokens"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("only"), std::string::npos) << o.err;
}

TEST_F(CliPerplexity, ContextBeyondTheModelsIsAnError) {
  const Output o = run_cli("perplexity -m " + kModel + " -f " + text_ + " -c 256 -t 2");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("more than the model's context of 128"), std::string::npos) << o.err;
}

TEST_F(CliPerplexity, WindowMethodIsAnExplicitAlternative) {
  const Output o = run_cli("perplexity -m " + kModel + " -f " + text_ + " -w 64 -t 2 --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["method"], "windows");
  const int n = static_cast<int>(ref_["tokens"].size());
  EXPECT_EQ(j["scored"], n - (n + 63) / 64);  // every token but the first of each window
  // -w and -c name different methods: refused.
  EXPECT_NE(run_cli("perplexity -m " + kModel + " -f " + text_ + " -w 64 -c 128").rc, 0);
  EXPECT_NE(run_cli("perplexity -m " + kModel + " -f " + text_ + " -t -3").rc, 0);
}

}  // namespace
