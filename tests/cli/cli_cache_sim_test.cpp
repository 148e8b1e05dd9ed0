// `moe-cli cache-sim` and `moe-cli profile` end to end: a hand-written trace whose hit rates are
// known, the JSON checked against the library's replay, malformed traces and bad budgets, and
// a real run's trace (make-model demo + run --trace) turned into a profile and replayed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_runner.h"
#include "core/store/cache_replay.h"
#include "core/store/routing_profile.h"

namespace {

namespace fs = std::filesystem;
using moe::cli_test::Output;
using moe::cli_test::run_cli;
using moe::cli_test::sh_quote;

class CliCacheSim : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moe_cli_cache_sim_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    // 2 layers, 4 experts, top-1. Layer 0: 0 1 0 2 0 3 ... (0 every other token); layer 1: a
    // cycle over 0 1 2 (LRU with 2 slots never hits it).
    trace_ = (dir_ / "t.jsonl").string();
    std::ofstream f(trace_);
    for (int t = 0; t < 60; ++t) {
      const int e0 = t % 2 == 0 ? 0 : 1 + (t / 2) % 3;
      const int e1 = t % 3;
      f << R"({"type":"timing","step":)" << t << "}\n";
      f << R"({"type":"routing","step":)" << t
        << R"(,"pos":0,"layer":0,"logits":[0,0,0,0],"experts":[)" << e0 << R"(],"weights":[1]})"
        << "\n";
      f << R"({"type":"routing","step":)" << t
        << R"(,"pos":0,"layer":1,"logits":[0,0,0,0],"experts":[)" << e1 << R"(],"weights":[1]})"
        << "\n";
    }
    f << R"({"type":"trace_end","dropped":0})"
      << "\n";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static fs::path dir_;
  static std::string trace_;
};
fs::path CliCacheSim::dir_;
std::string CliCacheSim::trace_;

TEST_F(CliCacheSim, JsonMatchesTheLibraryReplay) {
  const Output o = run_cli("cache-sim --trace " + sh_quote(trace_) + " --slots 2 --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << o.out;
  EXPECT_EQ(j["n_layer"], 2);
  EXPECT_EQ(j["n_expert"], 4);
  EXPECT_EQ(j["tokens"], 60);
  EXPECT_EQ(j["profile_tokens"], 30);
  EXPECT_EQ(j["slots"], (std::vector<int>{2, 2}));
  // Layer 1 cycles over 0 1 2: log2(3) bits; layer 0: 0 half the time, 1 2 3 a sixth each.
  EXPECT_NEAR(j["layer_entropy_bits"][1].get<double>(), std::log2(3.0), 1e-9);
  EXPECT_NEAR(j["layer_entropy_bits"][0].get<double>(), 0.5 + 0.5 * std::log2(6.0), 1e-9);
  auto trace = moe::load_routing_trace(trace_);
  ASSERT_TRUE(trace.ok());
  const auto profile_part = trace->slice(0, 30);
  const auto replay = trace->slice(30, 60);
  const auto prior = moe::profile_from_trace(profile_part);
  const std::vector<int> slots = {2, 2};
  const double oracle = j["belady"]["hit_rate"];
  EXPECT_DOUBLE_EQ(oracle, moe::replay_belady(replay, slots).total.rate());
  ASSERT_EQ(j["policies"].size(), moe::planner_candidates().size());
  for (const auto& p : j["policies"]) {
    EXPECT_LE(p["hit_rate"].get<double>(), oracle) << p["policy"];
  }
  // LRU on layer 1's 0 1 2 cycle with 2 slots: never a hit; layer 0: pinned keeps 0 and 1.
  EXPECT_EQ(j["policies"][1]["policy"], "lru");
  EXPECT_EQ(j["policies"][1]["layer_hit_rate"][1], 0.0);
  EXPECT_EQ(j["policies"][0]["policy"], "pinned");
  // Replay half of layer 0: 15 x expert 0, 5 each of 1, 2, 3; pinned {0, 1} (ties to the lower
  // id) misses only their first use: (14 + 4) / 30.
  EXPECT_DOUBLE_EQ(j["policies"][0]["layer_hit_rate"][0].get<double>(), 18.0 / 30);
  EXPECT_EQ(j["planner"]["choice"],
            moe::plan_cache_policy(profile_part, prior, slots).chosen.label());
}

TEST_F(CliCacheSim, TextOutputAndOnePolicy) {
  const Output o =
      run_cli("cache-sim --trace " + sh_quote(trace_) + " --ram-budget 50% --policy hybrid");
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("slots    4 of 8 (50.0%), equal: 2 2"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("hybrid(50%)"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("belady"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("planner"), std::string::npos) << o.out;
}

TEST_F(CliCacheSim, ClearErrors) {
  const std::string bad = (dir_ / "bad.jsonl").string();
  std::ofstream(bad) << R"({"type":"routing","layer":0,"experts":[1]})"
                     << "\n{oops\n";
  Output o = run_cli("cache-sim --trace " + sh_quote(bad) + " --slots 2");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("bad.jsonl:2: not valid JSON"), std::string::npos) << o.err;
  o = run_cli("cache-sim --trace " + sh_quote(trace_) + " --ram-budget 12GiB");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("needs -m MODEL"), std::string::npos) << o.err;
  o = run_cli("cache-sim --trace " + sh_quote(trace_) + " --ram-budget lots%");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("RAM budget 'lots%': is not a percentage"), std::string::npos) << o.err;
  o = run_cli("cache-sim --trace " + sh_quote(trace_));
  EXPECT_EQ(o.rc, 2);
  o = run_cli("cache-sim --trace " + sh_quote(trace_) + " --slots 2 --policy mru");
  EXPECT_EQ(o.rc, 2);
  EXPECT_NE(o.err.find("unknown cache policy 'mru'"), std::string::npos) << o.err;
}

TEST_F(CliCacheSim, RecordedRunToProfileToReplay) {
  const std::string model = (dir_ / "demo.gguf").string();
  Output o = run_cli("make-model --preset demo --type q8_0 --seed 5 -o " + sh_quote(model));
  ASSERT_EQ(o.rc, 0) << o.err;
  const std::string trace = (dir_ / "run.jsonl").string();
  o = run_cli("run -m " + sh_quote(model) +
              " -p 'one two three four five six' -n 24 --ignore-eos --trace " + sh_quote(trace));
  ASSERT_EQ(o.rc, 0) << o.err;
  const std::string profile = (dir_ / "demo.profile.json").string();
  o = run_cli("profile --trace " + sh_quote(trace) + " -m " + sh_quote(model) + " -o " +
              sh_quote(profile));
  ASSERT_EQ(o.rc, 0) << o.err;
  EXPECT_NE(o.out.find("4 layers x 8 experts"), std::string::npos) << o.out;
  auto id = moe::model_identity_of(model);
  ASSERT_TRUE(id.ok());
  auto p = moe::load_profile(profile, &*id);
  ASSERT_TRUE(p.ok()) << p.message();
  EXPECT_EQ(p->n_layer(), 4);
  uint64_t chosen = 0;
  for (const auto c : p->counts[0]) chosen += c;
  EXPECT_EQ(chosen, 2 * p->n_tokens);  // top-2 of every token
  // Without -o: the per-model file under XDG_CACHE_HOME.
  const std::string env = "XDG_CACHE_HOME=" + sh_quote((dir_ / "cache").string()) + " ";
  const std::string cmd = env + std::string(MOE_CLI) + " profile --trace " + sh_quote(trace) +
                          " -m " + sh_quote(model) + " > /dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto def = moe::default_profile_path(*id);
  ASSERT_TRUE(def.ok());
  const auto under = dir_ / "cache" / "moe-studio" / "profiles" / fs::path(*def).filename();
  EXPECT_TRUE(fs::exists(under)) << under;
  // cache-sim with the model: a budget in bytes becomes slots of one expert each.
  o = run_cli("cache-sim --trace " + sh_quote(trace) + " -m " + sh_quote(model) +
              " --ram-budget 6684672 --json");  // 16 experts of 417792 bytes (demo, q8_0)
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << o.out;
  EXPECT_EQ(j["total_slots"], 16);
  o = run_cli("cache-sim --trace " + sh_quote(trace) + " -m " + sh_quote(model) +
              " --ram-budget 1KiB");
  EXPECT_EQ(o.rc, 1);
  EXPECT_NE(o.err.find("smaller than one expert"), std::string::npos) << o.err;
}

}  // namespace
