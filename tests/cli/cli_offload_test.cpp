// `moe-cli calibrate`, `moe-cli plan` and the predicted-vs-measured expert-load figures of
// `moe-cli bench` end to end, on a generated demo model (4 layers x 8 experts, top-2), with the
// cache folder in a temporary directory (MOE_CACHE_DIR). Figures are checked for consistency,
// never for speed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"

namespace {

namespace fs = std::filesystem;
using moe::cli_test::Output;
using moe::cli_test::run_cli;
using moe::cli_test::sh_quote;

class CliOffload : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moe_cli_offload_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    model_ = (dir_ / "demo.gguf").string();
    const Output o =
        run_cli("make-model --preset demo --type q8_0 --seed 5 -o " + sh_quote(model_));
    ASSERT_EQ(o.rc, 0) << o.err;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static Output cli(const std::string& args) {
    return run_cli(args, 300, "MOE_CACHE_DIR=" + sh_quote((dir_ / "cache").string()));
  }
  static nlohmann::json json_of(const Output& o) {
    auto j = nlohmann::json::parse(o.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << o.out;
    return j;
  }
  static fs::path dir_;
  static std::string model_;
};
fs::path CliOffload::dir_;
std::string CliOffload::model_;

TEST_F(CliOffload, CalibrateMeasuresCachesAndIsReadBack) {
  Output o = cli("calibrate -m " + sh_quote(model_) + " --force --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  auto j = json_of(o);
  EXPECT_EQ(j["source"], "measured");
  EXPECT_GT(j["read_bytes"].get<double>(), 0);
  EXPECT_GT(j["s_dc_mb_per_s"].get<double>(), 0);
  EXPECT_GT(j["s_cg_gb_per_s"].get<double>(), 0);
  EXPECT_GT(j["compute_ms_per_expert"].get<double>(), 0);
  EXPECT_LE(j["read_s_min"].get<double>() * 1e3, j["read_ms"].get<double>());
  EXPECT_NE(j["s_cg_meaning"].get<std::string>().find("CPU-only"), std::string::npos);
  const std::string cache = j["cache_path"];
  ASSERT_TRUE(fs::is_regular_file(cache)) << cache;
  o = cli("calibrate -m " + sh_quote(model_));
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("calibration  cache " + cache), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("s_dc         disk -> RAM"), std::string::npos) << o.out;
  // The engine reads it: the backend line says the latency model is calibrated.
  o = cli("run -m " + sh_quote(model_) + " -p hi -n 2 --ram-budget 50%");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.err.find("latency model calibrated (cache " + cache + ")"), std::string::npos)
      << o.err;
  // A corrupt cache file: said, measured again, rewritten.
  std::ofstream(cache, std::ios::trunc) << "garbage";
  o = cli("calibrate -m " + sh_quote(model_) + " --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_EQ(json_of(o)["source"], "measured");
  EXPECT_NE(o.err.find("ignoring " + cache + ": not valid JSON; measuring again"),
            std::string::npos)
      << o.err;
  o = cli("calibrate -m " + sh_quote(model_) + " --json");
  EXPECT_EQ(json_of(o)["source"], "cache " + cache);
}

TEST_F(CliOffload, CalibrateErrors) {
  Output o = cli("calibrate");
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("give a model (-m MODEL) or a file"), std::string::npos) << o.err;
  o = cli("calibrate -m " + sh_quote((dir_ / "nope.gguf").string()));
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("nope.gguf"), std::string::npos) << o.err;
  o = cli("calibrate --file " + sh_quote(dir_.string()));
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("is a directory"), std::string::npos) << o.err;
  o = cli("calibrate --file " + sh_quote(model_) + " --read-size lots");
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("--read-size"), std::string::npos) << o.err;
  o = cli("calibrate -m " + sh_quote(model_) + " --read-size 1MiB");
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("--read-size is for --file alone"), std::string::npos) << o.err;
  o = cli("calibrate --file " + sh_quote(model_) + " --read-size 1GiB");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("less than one read"), std::string::npos) << o.err;
}

TEST_F(CliOffload, PlanHitRateIsCacheSimsAndBytesAddUp) {
  const std::string trace = (dir_ / "t.jsonl").string();
  Output o = cli("run -m " + sh_quote(model_) + " -p 'The patient has a fever and a cough.' " +
                 "--raw -n 40 --ignore-eos --seed 3 --trace " + sh_quote(trace));
  ASSERT_EQ(o.rc, 0) << o.err;
  o = cli("inspect " + sh_quote(model_) + " --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const double expert_bytes = json_of(o)["expert_bytes"].get<double>();
  for (const char* policy : {"lru", "lfu", "pinned", "hybrid"}) {
    o = cli("plan -m " + sh_quote(model_) + " --ram-budget 50% --policy " + policy + " --trace " +
            sh_quote(trace) + " --json");
    ASSERT_EQ(o.rc, 0) << o.err;
    const auto p = json_of(o);
    o = cli("cache-sim -m " + sh_quote(model_) + " --ram-budget 50% --policy " + policy +
            " --trace " + sh_quote(trace) + " --json");
    ASSERT_EQ(o.rc, 0) << o.err;
    const auto s = json_of(o);
    EXPECT_DOUBLE_EQ(p["hit_rate"].get<double>(), s["policies"][0]["hit_rate"].get<double>())
        << policy;
    EXPECT_EQ(p["slots_per_layer"].get<int>(), s["slots"][0].get<int>());
    const auto& b = p["bytes"];
    EXPECT_EQ(b["expert_ram"].get<double>() + b["expert_disk"].get<double>(), expert_bytes);
    EXPECT_EQ(b["expert_total"].get<double>(), expert_bytes);
    EXPECT_LE(p["slot_bytes_held"].get<double>(), p["ram_budget_bytes"].get<double>());
    EXPECT_GT(p["predicted_decode_tok_per_s"].get<double>(), 0);
    EXPECT_GE(p["predicted_load_ms_per_token"].get<double>(), 0);
  }
  o = cli("plan -m " + sh_quote(model_) + " --ram-budget 25%");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("hit rate   0.2500  (uniform-routing estimate"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("on disk"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("tok/s predicted"), std::string::npos) << o.out;
}

TEST_F(CliOffload, PlanErrors) {
  Output o = cli("plan -m " + sh_quote(model_) + " --ram-budget 1KiB");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("below the minimum"), std::string::npos) << o.err;
  o = cli("plan -m " + sh_quote(model_) + " --ram-budget half");
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("--ram-budget"), std::string::npos) << o.err;
  o = cli("plan -m " + sh_quote(model_));
  EXPECT_EQ(o.rc, 2);
  o = cli("plan -m " + sh_quote(model_) + " --ram-budget 50% --policy mru");
  EXPECT_EQ(o.rc, 2);
  const std::string t = (dir_ / "p.json").string();
  std::ofstream(t) << "{}";
  o = cli("plan -m " + sh_quote(model_) + " --ram-budget 50% --profile " + sh_quote(t) +
          " --trace " + sh_quote(t));
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("not both"), std::string::npos) << o.err;
  o = cli("plan -m " + sh_quote(model_) + " --ram-budget 50% --profile " + sh_quote(t));
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("p.json"), std::string::npos) << o.err;
}

TEST_F(CliOffload, BenchRecordsPredictedBesideMeasuredLoadPerToken) {
  const std::string trace = (dir_ / "bench.jsonl").string();
  Output o = cli("bench -m " + sh_quote(model_) +
                 " -p 16 -n 12 -t 2 --no-membw --ram-budget 25% --no-prefetch --json --trace " +
                 sh_quote(trace));
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = json_of(o);
  const double pred = j["predicted_load_ms_per_token"], meas = j["measured_load_ms_per_token"];
  EXPECT_LT(j["cache_hit_rate"].get<double>(), 1.0);  // 2 of 8 slots: decode misses
  // Belady on the same accesses and slots (no prefetch): at least the policy's, at most 1.
  EXPECT_GE(j["oracle_hit_rate"].get<double>(), j["cache_hit_rate"].get<double>());
  EXPECT_LE(j["oracle_hit_rate"].get<double>(), 1.0);
  EXPECT_GT(pred, 0);
  EXPECT_GT(meas, 0);
  EXPECT_NEAR(j["load_prediction_ratio"].get<double>(), pred / meas, 1e-9);
  EXPECT_FALSE(j["load_latency_model"].get<std::string>().empty());
  // The trace holds the same figures per decode step.
  std::ifstream in(trace);
  double sum_pred = 0, sum_meas = 0;
  int steps = 0;
  bool end_seen = false;
  for (std::string line; std::getline(in, line);) {
    const auto e = nlohmann::json::parse(line);
    if (e["type"] == "trace_end") {
      // The run's summary: the policy's hit rate (what bench reports) and Belady's beside it.
      end_seen = true;
      ASSERT_TRUE(e.contains("oracle_hit_rate") && e.contains("cache_hit_rate")) << line;
      EXPECT_NEAR(e["cache_hit_rate"].get<double>(), j["cache_hit_rate"].get<double>(), 1e-5);
      EXPECT_GE(e["oracle_hit_rate"].get<double>(), e["cache_hit_rate"].get<double>());
    }
    if (e["type"] != "timing" || e["phase"] != "decode") continue;
    ASSERT_TRUE(e.contains("predicted_load_s") && e.contains("measured_load_s")) << line;
    EXPECT_GE(e["predicted_load_s"].get<double>(), 0);
    EXPECT_GE(e["measured_load_s"].get<double>(), 0);
    EXPECT_LE(e["measured_load_s"].get<double>(), e["total_s"].get<double>());
    sum_pred += e["predicted_load_s"].get<double>();
    sum_meas += e["measured_load_s"].get<double>();
    ++steps;
  }
  ASSERT_EQ(steps, 11);  // 12 tokens: the first comes from the prefill's logits
  EXPECT_TRUE(end_seen);
  EXPECT_NEAR(1e3 * sum_pred / steps, pred, 1e-9 * (1 + pred));
  EXPECT_NEAR(1e3 * sum_meas / steps, meas, 1e-9 * (1 + meas));
  // No store that loads experts: the figures are null.
  o = cli("bench -m " + sh_quote(model_) + " -p 8 -n 4 -t 2 --no-membw --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto m = json_of(o);
  EXPECT_TRUE(m["predicted_load_ms_per_token"].is_null());
  EXPECT_TRUE(m["oracle_hit_rate"].is_null());
  EXPECT_TRUE(m["load_prediction_ratio"].is_null());
}

// `--policy auto` (the default) end to end: without a profile the store runs LRU and the bench
// JSON says why; with a profile saved by `moe-cli profile` (which keeps the trace) the planner
// chooses, and the store runs what it chose; `--policy none` reads every use from disk.
TEST_F(CliOffload, BenchNamesThePolicyAutoChoseAndWhy) {
  const std::string args = "bench -m " + sh_quote(model_) +
                           " -p 16 -n 8 -t 2 --no-membw --ram-budget 50% --no-prefetch --json";
  Output o = cli(args);
  ASSERT_EQ(o.rc, 0) << o.err;
  auto j = json_of(o);
  EXPECT_EQ(j["cache_policy"], "lru");
  EXPECT_NE(j["cache_policy_reason"].get<std::string>().find("no routing profile"),
            std::string::npos)
      << j["cache_policy_reason"];

  const std::string trace = (dir_ / "auto.jsonl").string();
  o = cli(args + " --trace " + sh_quote(trace));
  ASSERT_EQ(o.rc, 0) << o.err;
  const std::string profile = (dir_ / "auto.profile.json").string();
  o = cli("profile --trace " + sh_quote(trace) + " -m " + sh_quote(model_) + " -o " +
          sh_quote(profile));
  ASSERT_EQ(o.rc, 0) << o.err;
  o = cli(args + " --profile " + sh_quote(profile));
  ASSERT_EQ(o.rc, 0) << o.err;
  j = json_of(o);
  const std::string reason = j["cache_policy_reason"];
  EXPECT_NE(reason.find("auto: the planner's per-layer choice"), std::string::npos) << reason;
  EXPECT_FALSE(j["cache_policy"].get<std::string>().empty());
  // Asked for by name, the same policy runs "as asked".
  const std::string chosen = j["cache_policy"];
  if (chosen.find("per layer") == std::string::npos && chosen.find('(') == std::string::npos) {
    o = cli(args + " --profile " + sh_quote(profile) + " --policy " + chosen);
    ASSERT_EQ(o.rc, 0) << o.err;
    EXPECT_EQ(json_of(o)["cache_policy_reason"], "as asked");
  }

  o = cli(args + " --policy none");
  ASSERT_EQ(o.rc, 0) << o.err;
  j = json_of(o);
  EXPECT_EQ(j["cache_policy"], "none");
  EXPECT_EQ(j["cache_hit_rate"].get<double>(), 0.0);
  EXPECT_GT(j["disk_bytes_per_token"].get<double>(), 0.0);
}

}  // namespace
