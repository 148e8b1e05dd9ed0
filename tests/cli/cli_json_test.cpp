// End-to-end tests of the moe-cli commands that run a model: the real binary on a generated
// demo model, its JSON output parsed and checked (bench, perplexity, wdmoe-sim), streamed text
// (run), the JSONL trace, and clear failures.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;

using moe::cli_test::Output;
using moe::cli_test::run_cli;
using moe::cli_test::run_cli_env;

class CliModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moe_cli_test_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "demo.gguf").string();
    const Output o = run_cli("make-model --preset demo --type q8_0 --seed 5 -o " + model_);
    ASSERT_EQ(o.rc, 0) << o.err;
    text_ = (dir_ / "text.txt").string();
    std::ofstream t(text_);
    for (int i = 0; i < 40; ++i) {
      t << "The patient was admitted with fever, cough and shortness of breath; "
           "chest X-ray showed a right lower lobe infiltrate. ";
    }
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
  static std::string model_, text_;
};
fs::path CliModel::dir_;
std::string CliModel::model_, CliModel::text_;

TEST_F(CliModel, RunStreamsADeterministicGreedyAnswer) {
  const std::string args = "run -m " + model_ + " -p 'What is sepsis?' -n 12 --greedy --ignore-eos -t 2";
  const Output a = run_cli(args);
  ASSERT_EQ(a.rc, 0) << a.err;
  EXPECT_NE(a.err.find("12 generated"), std::string::npos) << a.err;
  EXPECT_NE(a.err.find("RANDOM WEIGHTS"), std::string::npos) << a.err;
  EXPECT_GT(a.out.size(), 12u);
  const Output b = run_cli(args);
  EXPECT_EQ(a.out, b.out);  // greedy: the same text every time
}

TEST_F(CliModel, BenchJsonHasConsistentFigures) {
  const Output o = run_cli("bench -m " + model_ + " -p 24 -n 8 -t 2 -r 2 --no-membw --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["decode_tokens"], 8);
  EXPECT_EQ(j["prompt_tokens"], 24);  // random ids, exactly as many as asked (llama-bench's way)
  EXPECT_GT(j["decode_tok_per_s"].get<double>(), 0);
  EXPECT_GT(j["prompt_tok_per_s"].get<double>(), 0);
  EXPECT_GT(j["time_to_first_token_ms"].get<double>(), 0);
  // Every repetition is listed; the headline decode figure is the fastest of them.
  ASSERT_EQ(j["decode_tok_per_s_runs"].size(), 2u);
  ASSERT_EQ(j["prompt_tok_per_s_runs"].size(), 2u);
  EXPECT_EQ(j["decode_tok_per_s"].get<double>(),
            std::max(j["decode_tok_per_s_runs"][0].get<double>(),
                     j["decode_tok_per_s_runs"][1].get<double>()));
  EXPECT_EQ(j["experts_per_token"], 2);
  // Active bytes: more than 2 of 8 experts' share, less than the whole file.
  const double file = j["file_bytes"].get<double>();
  const double active = j["active_bytes_per_token"].get<double>();
  EXPECT_GT(active, 0.25 * 13369344);  // demo q8_0: 13369344 expert bytes in all
  EXPECT_LT(active, file);
  // The weights are touched at load: the resident set covers most of the mapped file.
  EXPECT_GT(j["peak_rss_bytes"].get<double>(), 0.5 * file);
  // Random decoded ids spread the routing (8 tokens x 2 experts = 16 selections per layer):
  // more than the 1 bit of one fixed expert pair, at most log2(8) = 3 bits.
  EXPECT_EQ(j["decode_input"], "random token ids");
  EXPECT_EQ(j["routing_entropy_max_bits"].get<double>(), 3.0);
  EXPECT_GT(j["routing_entropy_bits"].get<double>(), 1.0);
  EXPECT_LE(j["routing_entropy_bits"].get<double>(), 3.0 + 1e-9);
  EXPECT_GT(j["distinct_experts_per_layer"].get<double>(), 2.0);
  EXPECT_LE(j["distinct_experts_per_layer"].get<double>(), 8.0);
}

// Any prompt length works (it failed with "generate: no messages" for -p 8 when the prompt
// was made of words), and the same seed gives the same routing.
TEST_F(CliModel, BenchTakesAnyPromptLengthAndItsSeed) {
  for (const char* p : {"1", "2", "8"}) {
    const Output o = run_cli("bench -m " + model_ + " -p " + p + " -n 4 -t 2 --no-membw --json");
    ASSERT_EQ(o.rc, 0) << p << ": " << o.err;
    EXPECT_EQ(nlohmann::json::parse(o.out)["prompt_tokens"], std::stoi(p));
  }
  auto entropy = [&](const std::string& seed) {
    const Output o = run_cli("bench -m " + model_ + " -p 4 -n 16 -t 2 --no-membw --json --seed " + seed);
    EXPECT_EQ(o.rc, 0) << o.err;
    return nlohmann::json::parse(o.out)["routing_entropy_bits"].get<double>();
  };
  EXPECT_EQ(entropy("3"), entropy("3"));
}

// Tier-aware selection: θ = 0 is exactly the mapped store's greedy answer; θ > 0 may leave out
// experts that would need a disk read (the answer may change, the run must not fail); without
// the tiered store it is a usage error naming what is missing.
TEST_F(CliModel, TierThetaZeroIsExactAndNeedsTheTieredStore) {
  const std::string base = "run -m " + model_ + " -p 'What is sepsis?' -n 12 --greedy --ignore-eos -t 2";
  const Output mapped = run_cli(base);
  ASSERT_EQ(mapped.rc, 0) << mapped.err;
  const Output exact = run_cli(base + " --ram-budget 30% --tier-theta 0");
  ASSERT_EQ(exact.rc, 0) << exact.err;
  EXPECT_EQ(exact.out, mapped.out);
  EXPECT_NE(exact.err.find("selector wdmoe-wlr (tier)"), std::string::npos) << exact.err;
  const Output skip = run_cli(base + " --ram-budget 30% --tier-theta 0.5");
  ASSERT_EQ(skip.rc, 0) << skip.err;
  EXPECT_NE(skip.err.find("12 generated"), std::string::npos) << skip.err;
  const Output no_store = run_cli(base + " --tier-theta 0.2");
  EXPECT_NE(no_store.rc, 0);
  EXPECT_NE(no_store.err.find("needs the tiered store"), std::string::npos) << no_store.err;
}

// The kernels in use are named on the backend line; MOE_SIMD forces one variant for every type.
TEST_F(CliModel, BackendLineNamesTheKernelsAndMoeSimdForcesThem) {
  const Output o = run_cli("bench -m " + model_ + " -p 4 -n 2 -t 1 --no-membw --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(nlohmann::json::parse(o.out)["backend"].get<std::string>().find(", kernels "),
            std::string::npos) << o.out;
  const Output f = run_cli_env("MOE_SIMD=scalar", "bench -m " + model_ + " -p 4 -n 2 -t 1 --no-membw --json");
  ASSERT_EQ(f.rc, 0) << f.err;
  EXPECT_NE(nlohmann::json::parse(f.out)["backend"].get<std::string>().find(
                "kernels scalar (forced)"),
            std::string::npos) << f.out;
}

TEST_F(CliModel, PerplexityJsonScoresEveryTokenButTheFirstOfEachWindow) {
  const Output o = run_cli("perplexity -m " + model_ + " -f " + text_ + " -w 64 -n 200 -t 2 --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  EXPECT_EQ(j["method"], "windows");  // -w selects the window method
  EXPECT_EQ(j["tokens"], 200);
  EXPECT_EQ(j["scored"], 200 - 4);  // windows of 64, 64, 64, 8 tokens
  const double ppl = j["perplexity"].get<double>();
  EXPECT_GT(ppl, 1.0);
  EXPECT_LT(ppl, 1e6);
  EXPECT_NEAR(std::log(ppl), j["mean_nll"].get<double>(), 1e-9);
}

TEST_F(CliModel, WdmoeSimDropsExpertsAndLatencyAsThetaGrows) {
  const Output o = run_cli("wdmoe-sim -m " + model_ + " -f " + text_ +
                           " --theta 0,0.3,0.5 -n 128 -t 2 --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  ASSERT_EQ(j["results"].size(), 3u);
  const auto& r0 = j["results"][0];
  const auto& r3 = j["results"][1];
  const auto& r5 = j["results"][2];
  EXPECT_DOUBLE_EQ(r0["theta"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(r0["experts_per_token"].get<double>(), 2.0);  // θ = 0 is plain top-2
  EXPECT_LT(r3["experts_per_token"].get<double>(), 2.0);
  EXPECT_LE(r5["experts_per_token"].get<double>(), r3["experts_per_token"].get<double>());
  EXPECT_LT(r3["mean_latency_s"].get<double>(), r0["mean_latency_s"].get<double>());
  EXPECT_GT(r3["latency_reduction"].get<double>(), 0.0);
  EXPECT_TRUE(j["random_weights"].get<bool>());
}

TEST_F(CliModel, TraceHoldsRoutingEventsForEveryLayer) {
  const std::string trace = (dir_ / "trace.jsonl").string();
  const Output o = run_cli("run -m " + model_ + " -p hello -n 4 --greedy --ignore-eos -t 2 --trace " + trace);
  ASSERT_EQ(o.rc, 0) << o.err;
  std::ifstream in(trace);
  int routing = 0, timing = 0, generation = 0;
  bool ended = false;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    const std::string type = j["type"];
    if (type == "routing") {
      ++routing;
      EXPECT_EQ(j["experts"].size(), 2u);
      EXPECT_EQ(j["logits"].size(), 8u);
      EXPECT_GE(j["layer"].get<int>(), 0);
      EXPECT_LT(j["layer"].get<int>(), 4);
    }
    timing += type == "timing";
    generation += type == "generation";
    ended = ended || type == "trace_end";
  }
  EXPECT_TRUE(ended);
  EXPECT_EQ(generation, 1);
  EXPECT_GE(timing, 4);  // a prefill step and at least three decode steps
  EXPECT_EQ(routing % 4, 0);  // every token goes through all 4 layers
  EXPECT_GT(routing, 4 * 4);
}

// GGUF strings are not guaranteed UTF-8: a general.name with byte 0xFF used to make
// `inspect --json` fail with a bare nlohmann "invalid UTF-8 byte" message.
TEST(Cli, InspectJsonSurvivesInvalidUtf8InMetadata) {
  const fs::path f =
      fs::temp_directory_path() / ("moe_cli_badutf8_" + std::to_string(getpid()) + ".gguf");
  {
    std::string b = "GGUF";
    auto put = [&](uint64_t v, int n) {
      for (int i = 0; i < n; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
    };
    const std::string key = "general.name", val = "bad \xff\xfe name";
    put(3, 4);  // version
    put(0, 8);  // tensors
    put(1, 8);  // kvs
    put(key.size(), 8);
    b += key;
    put(8, 4);  // string
    put(val.size(), 8);
    b += val;
    std::ofstream(f, std::ios::binary) << b;
  }
  const Output o = run_cli("inspect " + f.string() + " --json");
  fs::remove(f);
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << o.out;
  EXPECT_EQ(j["name"], "bad \xEF\xBF\xBD\xEF\xBF\xBD name");  // U+FFFD for each bad byte
}

TEST(Cli, MissingOrCorruptModelFailsWithAMessage) {
  const Output missing = run_cli("run -m /nonexistent/model.gguf -p hi");
  EXPECT_NE(missing.rc, 0);
  EXPECT_NE(missing.err.find("/nonexistent/model.gguf"), std::string::npos) << missing.err;
  const fs::path bad = fs::temp_directory_path() / "moe_cli_bad.gguf";
  std::ofstream(bad) << "GGUF this is not a model";
  const Output corrupt = run_cli("run -m " + bad.string() + " -p hi");
  EXPECT_EQ(corrupt.rc, 1);
  EXPECT_NE(corrupt.err.find("moe_cli_bad.gguf"), std::string::npos) << corrupt.err;
  fs::remove(bad);
}

// Every command that runs a model builds its backend in the one assembly place (core/deploy):
// each names the parts assemble() made, and --expert-store, a deployment setting only
// assemble() reads, takes effect in each without changing a result (the RAM copy serves the
// same bytes to the same kernels).
TEST_F(CliModel, EveryCommandAssemblesItsBackendInOnePlace) {
  const std::string question = (dir_ / "question.txt").string();
  std::ofstream(question) << "What is sepsis?\n";
  const std::string m = " -m " + model_ + " -t 2 --expert-store ";
  std::map<std::string, std::vector<std::string>> results;  // store -> outputs
  for (const std::string store : {"mapped", "ram-copy", "tiered --ram-budget 50%"}) {
    const std::string name = store == "mapped"     ? "store mapped"
                             : store == "ram-copy" ? "store RAM copy"
                                                   : "store tiered (RAM budget";
    const Output run = run_cli("run" + m + store + " -p 'What is sepsis?' -n 6 --greedy --ignore-eos");
    ASSERT_EQ(run.rc, 0) << run.err;
    EXPECT_NE(run.err.find("backend: " + name), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(", executor local CPU, selector top-k"), std::string::npos) << run.err;
    const Output chat = run_cli("chat" + m + store + " -n 6 --greedy < " + question);
    ASSERT_EQ(chat.rc, 0) << chat.err;
    EXPECT_NE(chat.err.find("backend: " + name), std::string::npos) << chat.err;
    const Output bench = run_cli("bench" + m + store + " -p 16 -n 4 -r 1 --no-membw --json");
    ASSERT_EQ(bench.rc, 0) << bench.err;
    EXPECT_NE(nlohmann::json::parse(bench.out)["backend"].get<std::string>().find(name),
              std::string::npos);
    const Output ppl =
        run_cli("perplexity" + m + store + " -f " + text_ + " -w 64 -n 100 --json");
    ASSERT_EQ(ppl.rc, 0) << ppl.err;
    const auto pj = nlohmann::json::parse(ppl.out);
    EXPECT_NE(pj["backend"].get<std::string>().find(name), std::string::npos) << pj.dump();
    const Output sim = run_cli("wdmoe-sim" + m + store + " -f " + text_ +
                               " --theta 0,0.3 -n 64 --json");
    ASSERT_EQ(sim.rc, 0) << sim.err;
    const auto sj = nlohmann::json::parse(sim.out);
    const std::string sim_backend = sj["backend"].get<std::string>();
    EXPECT_EQ(sim_backend.find(name), 0u) << sim_backend;
    EXPECT_NE(sim_backend.find(", executor local CPU, selector wdmoe-wlr"), std::string::npos)
        << sim_backend;
    results[store] = {run.out, chat.out, pj["perplexity"].dump(), sj["results"].dump()};
  }
  EXPECT_EQ(results["mapped"], results["ram-copy"]);
  EXPECT_EQ(results["mapped"], results["tiered --ram-budget 50%"]);
  const Output bad = run_cli("run -m " + model_ + " -p hi --expert-store floppy");
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("floppy"), std::string::npos) << bad.err;
  // Budgets: a bad string is a usage error quoting it; one below a slot per layer names the
  // minimum; a budget for another store kind is refused.
  const Output bad_budget = run_cli("run -m " + model_ + " -p hi --ram-budget 12XB");
  EXPECT_EQ(bad_budget.rc, 2);
  EXPECT_NE(bad_budget.err.find("'12XB'"), std::string::npos) << bad_budget.err;
  const Output tiny = run_cli("run -m " + model_ + " -p hi --ram-budget 1KiB");
  EXPECT_EQ(tiny.rc, 1);
  EXPECT_NE(tiny.err.find("minimum"), std::string::npos) << tiny.err;
  const Output other = run_cli("run -m " + model_ + " -p hi --ram-budget 50% --expert-store mapped");
  EXPECT_EQ(other.rc, 2);
  EXPECT_NE(other.err.find("tiered"), std::string::npos) << other.err;
  const Output policy = run_cli("run -m " + model_ + " -p hi --ram-budget 50% --policy mru");
  EXPECT_EQ(policy.rc, 2);
  EXPECT_NE(policy.err.find("mru"), std::string::npos) << policy.err;
}

}  // namespace
