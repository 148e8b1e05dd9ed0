// Routing traces from the engine's JSONL (the real writer's lines), malformed lines, synthetic
// traces, and profiles: save/load round trip, model identity, refusal for another model.
#include "core/store/routing_profile.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/engine_api/trace_writer.h"
#include "core/gguf/gguf_writer.h"

namespace moe {
namespace {

namespace fs = std::filesystem;

RoutingEvent routing(int layer, std::vector<int16_t> chosen, int n_expert = 8) {
  RoutingEvent e;
  e.layer = static_cast<int16_t>(layer);
  e.n_expert = static_cast<int16_t>(n_expert);
  e.n_chosen = static_cast<int16_t>(chosen.size());
  for (size_t i = 0; i < chosen.size(); ++i) e.chosen[i] = chosen[i];
  return e;
}

Result<RoutingTrace> parse(const std::string& text) {
  std::istringstream in(text);
  return parse_routing_trace(in, "t.jsonl");
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("moe_profile_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string gguf(const std::string& name, const std::string& model_name) {
    GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_string("general.name", model_name);
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(w.write(path).ok());
    return path;
  }
  fs::path dir_;
};

TEST(RoutingTrace, ParsesTheWritersLines) {
  std::string text;
  TimingEvent timing;
  text += event_to_json(timing) + "\n";
  text += event_to_json(routing(0, {3, 1})) + "\n";
  text += event_to_json(routing(1, {0, 7})) + "\n";
  text += "\n";
  text += event_to_json(routing(0, {2, 3})) + "\n";
  text += event_to_json(routing(1, {7, 6})) + "\n";
  text += "{\"type\":\"trace_end\",\"dropped\":5}\n";
  auto t = parse(text);
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->n_layer(), 2);
  EXPECT_EQ(t->n_expert, 8);  // from the logits' length, though no expert above 7 was chosen
  EXPECT_EQ(t->top_k, 2);
  EXPECT_EQ(t->n_tokens(), 2u);
  EXPECT_EQ(t->dropped, 5u);
  EXPECT_EQ(std::vector<int16_t>(t->layers[0].token(1).begin(), t->layers[0].token(1).end()),
            (std::vector<int16_t>{2, 3}));
  const auto half = t->slice(1, 2);
  EXPECT_EQ(half.n_tokens(), 1u);
  EXPECT_EQ(half.layers[1].token(0)[0], 7);
  const auto p = profile_from_trace(*t);
  EXPECT_EQ(p.counts[0], (std::vector<uint64_t>{0, 1, 1, 2, 0, 0, 0, 0}));
  EXPECT_EQ(p.n_tokens, 2u);
}

TEST(RoutingTrace, MalformedLinesNameTheLine) {
  const std::string good = event_to_json(routing(0, {1, 2})) + "\n";
  struct Case {
    std::string text, expect;
  };
  const std::vector<Case> cases = {
      {good + good + "{\"type\":\"routing\",\"layer\":0,\"experts\":[1,\n",
       "t.jsonl:3: not valid JSON"},
      {good + "[1,2]\n", "t.jsonl:2: not a JSON object"},
      {good + "{\"layer\":0}\n", "t.jsonl:2: no \"type\""},
      {"{\"type\":\"routing\",\"experts\":[1]}\n", "t.jsonl:1: routing event without an integer"},
      {"{\"type\":\"routing\",\"layer\":-1,\"experts\":[1]}\n", "t.jsonl:1:"},
      {"{\"type\":\"routing\",\"layer\":1.5,\"experts\":[1]}\n", "t.jsonl:1:"},
      {good + "{\"type\":\"routing\",\"layer\":0,\"experts\":[]}\n",
       "t.jsonl:2: routing event without a non-empty"},
      {"{\"type\":\"routing\",\"layer\":0,\"experts\":[40000]}\n", "t.jsonl:1: expert ids"},
      {"{\"type\":\"routing\",\"layer\":0,\"experts\":[\"a\"]}\n", "t.jsonl:1: expert ids"},
      {"{\"type\":\"routing\",\"layer\":0,\"experts\":[2,2]}\n",
       "t.jsonl:1: expert 2 chosen twice"},
      {"{\"type\":\"timing\"}\n", "t.jsonl: no routing events"},
      {"{\"type\":\"routing\",\"layer\":4000,\"experts\":[30000]}\n",
       "t.jsonl: 4001 layers x 30001 experts is more"},
      {"", "t.jsonl: no routing events"},
  };
  for (const auto& c : cases) {
    auto t = parse(c.text);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.message().find(c.expect), std::string::npos) << t.message();
  }
}

TEST(RoutingTrace, SeededMutationsNeverCrash) {
  // CONVENTIONS: parsers get a seeded mutation corpus. Byte flips, truncations and inserted
  // characters over a valid trace: every result is a trace or an error naming the file.
  std::string base;
  for (int t = 0; t < 4; ++t) {
    for (int l = 0; l < 3; ++l)
      base += event_to_json(routing(l, {int16_t(t % 8), int16_t(7 - t)})) + "\n";
  }
  base += "{\"type\":\"trace_end\",\"dropped\":0}\n";
  uint64_t x = 0x9E3779B97F4A7C15ull;
  auto next = [&x] {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    return x;
  };
  const std::string alphabet = "{}[]\",:0123456789-.eE \nabcdefghijklmnopqrstuvwxyz";
  int n_ok = 0, n_err = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string m = base;
    for (uint64_t k = 0, n = 1 + next() % 4; k < n; ++k) {
      const size_t at = next() % m.size();
      switch (next() % 3) {
        case 0:
          m[at] = alphabet[next() % alphabet.size()];
          break;
        case 1:
          m.erase(at, 1 + next() % 8);
          break;
        default:
          m.insert(at, 1, alphabet[next() % alphabet.size()]);
      }
      if (m.empty()) m = "x";
    }
    auto t = parse(m);
    if (t.ok()) {
      ++n_ok;
      ASSERT_GT(t->n_layer(), 0);
      for (const auto& l : t->layers) {
        for (const int16_t e : l.flat()) ASSERT_TRUE(e >= 0 && e < t->n_expert);
      }
    } else {
      ++n_err;
      ASSERT_EQ(t.message().rfind("t.jsonl", 0), 0u) << t.message();
    }
  }
  EXPECT_GT(n_ok, 0);
  EXPECT_GT(n_err, 0);
}

TEST(RoutingTrace, SyntheticSpecAndSkew) {
  auto s = parse_synthetic_spec("layers=4,experts=16,k=2,tokens=2000,zipf=1.4,locality=0.2,seed=9");
  ASSERT_TRUE(s.ok()) << s.message();
  const auto t = make_synthetic_trace(*s);
  EXPECT_EQ(t.n_layer(), 4);
  EXPECT_EQ(t.n_tokens(), 2000u);
  for (const auto& l : t.layers) {
    for (size_t i = 0; i < l.n_tokens(); ++i) {
      ASSERT_EQ(l.token(i).size(), 2u);
      ASSERT_NE(l.token(i)[0], l.token(i)[1]);
    }
  }
  const auto skewed = profile_from_trace(t);
  s->zipf_s = 0;
  const auto flat = profile_from_trace(make_synthetic_trace(*s));
  EXPECT_LT(mean_routing_entropy_bits(skewed), mean_routing_entropy_bits(flat) - 0.3);
  EXPECT_NEAR(mean_routing_entropy_bits(flat), 4.0, 0.05);
  EXPECT_FALSE(parse_synthetic_spec("layers=0").ok());
  EXPECT_FALSE(parse_synthetic_spec("colour=3").ok());
  EXPECT_FALSE(parse_synthetic_spec("k=9,experts=8").ok());
  EXPECT_FALSE(parse_synthetic_spec("locality=1.5").ok());
  EXPECT_FALSE(parse_synthetic_spec("zipf=abc").ok());
}

TEST(RoutingProfile, Entropy) {
  EXPECT_DOUBLE_EQ(routing_entropy_bits(std::vector<uint64_t>{5, 5, 5, 5}), 2.0);
  EXPECT_DOUBLE_EQ(routing_entropy_bits(std::vector<uint64_t>{9, 0, 0}), 0.0);
  EXPECT_DOUBLE_EQ(routing_entropy_bits(std::vector<uint64_t>{}), 0.0);
  EXPECT_NEAR(routing_entropy_bits(std::vector<uint64_t>{3, 1}), 0.811278, 1e-6);
}

TEST_F(TempDir, ModelIdentityHashesTheHeader) {
  const auto a = model_identity_of(gguf("a.gguf", "model A"));
  const auto a2 = model_identity_of(gguf("a_copy.gguf", "model A"));
  const auto b = model_identity_of(gguf("b.gguf", "model B"));
  ASSERT_TRUE(a.ok() && a2.ok() && b.ok()) << a.message();
  EXPECT_EQ(a->name, "a.gguf");
  EXPECT_EQ(a->header_hash.size(), 16u);
  EXPECT_TRUE(a->matches(*a2));  // a renamed copy is the same model
  EXPECT_FALSE(a->matches(*b));  // same size ("model A"/"model B"), different header
  EXPECT_EQ(a->file_size, b->file_size);
  EXPECT_FALSE(model_identity_of((dir_ / "missing.gguf").string()).ok());
}

TEST_F(TempDir, SaveLoadRoundTripAndRefuseAnotherModel) {
  SyntheticTraceSpec s;
  s.n_layer = 3;
  s.n_tokens = 50;
  const auto a = model_identity_of(gguf("a.gguf", "model A"));
  const auto b = model_identity_of(gguf("b.gguf", "model B"));
  ASSERT_TRUE(a.ok() && b.ok());
  const RoutingProfile p = profile_from_trace(make_synthetic_trace(s), *a);
  const std::string path = (dir_ / "sub" / "p.json").string();
  ASSERT_TRUE(save_profile(p, path).ok());
  auto q = load_profile(path, &*a);
  ASSERT_TRUE(q.ok()) << q.message();
  EXPECT_EQ(q->counts, p.counts);
  EXPECT_EQ(q->n_tokens, 50u);
  EXPECT_EQ(q->n_expert, 8);
  EXPECT_EQ(q->model.name, "a.gguf");
  // The trace is kept token by token (the planner replays it: --policy auto).
  ASSERT_TRUE(q->has_trace());
  ASSERT_EQ(q->trace.n_layer(), 3);
  for (int l = 0; l < 3; ++l) {
    EXPECT_EQ(q->trace.layers[static_cast<size_t>(l)].flat(),
              p.trace.layers[static_cast<size_t>(l)].flat());
    EXPECT_EQ(q->trace.layers[static_cast<size_t>(l)].n_tokens(), 50u);
  }
  EXPECT_EQ(q->trace.n_expert, 8);
  EXPECT_EQ(q->trace.top_k, p.trace.top_k);
  EXPECT_TRUE(load_profile(path).ok());  // by path, no check
  auto other = load_profile(path, &*b);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.message().find("recorded on 'a.gguf'"), std::string::npos) << other.message();
  EXPECT_NE(other.message().find("'b.gguf'"), std::string::npos) << other.message();
  // A profile of no model is refused when a model is expected.
  const std::string anon = (dir_ / "anon.json").string();
  ASSERT_TRUE(save_profile(profile_from_trace(make_synthetic_trace(s)), anon).ok());
  EXPECT_FALSE(load_profile(anon, &*a).ok());
}

TEST_F(TempDir, MalformedProfilesAreErrors) {
  const std::vector<std::string> bad = {
      "nope",
      "{}",
      R"({"format":"moe-studio routing profile","version":3,"n_expert":2,"n_tokens":1,"counts":[]})",
      // Version 2's trace: one array per layer of counts, expert ids in [0, n_expert).
      R"({"format":"moe-studio routing profile","version":2,"n_expert":2,"n_tokens":1,"counts":[[1,1]],"trace":[]})",
      R"({"format":"moe-studio routing profile","version":2,"n_expert":2,"n_tokens":1,"counts":[[1,1]],"trace":[[[0,2]]]})",
      R"({"format":"moe-studio routing profile","version":2,"n_expert":2,"n_tokens":1,"counts":[[1,1]],"trace":[[0,1]]})",
      R"({"format":"moe-studio routing profile","version":1,"n_expert":2,"n_tokens":1,"counts":[[1]]})",
      R"({"format":"moe-studio routing profile","version":1,"n_expert":2,"n_tokens":1,"counts":[[1,-1]]})",
      R"({"format":"moe-studio routing profile","version":1,"n_expert":2,"n_tokens":1,"counts":[[1,1]],"model":{"name":"x"}})",
  };
  for (const auto& text : bad) {
    auto p = profile_from_json(text, "p.json");
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.message().rfind("p.json: ", 0), 0u) << p.message();
  }
  EXPECT_TRUE(
      profile_from_json(
          R"({"format":"moe-studio routing profile","version":1,"n_expert":2,"n_tokens":1,"counts":[[1,1]]})",
          "p.json")
          .ok());
  // A version 1 file (counts only, before profiles kept their trace) still loads, traceless.
  auto v1 = profile_from_json(
      R"({"format":"moe-studio routing profile","version":1,"n_expert":2,"n_tokens":1,"counts":[[1,1]]})",
      "p.json");
  ASSERT_TRUE(v1.ok()) << v1.message();
  EXPECT_FALSE(v1->has_trace());
  auto v2 = profile_from_json(
      R"({"format":"moe-studio routing profile","version":2,"n_expert":2,"n_tokens":2,"counts":[[2,1]],"trace":[[[0,1],[0]]]})",
      "p.json");
  ASSERT_TRUE(v2.ok()) << v2.message();
  ASSERT_TRUE(v2->has_trace());
  EXPECT_EQ(v2->trace.layers[0].n_tokens(), 2u);
  EXPECT_EQ(v2->trace.top_k, 2);
  EXPECT_FALSE(load_profile((dir_ / "missing.json").string()).ok());
}

TEST_F(TempDir, DefaultPathUnderXdgCacheHome) {
  const char* old = std::getenv("XDG_CACHE_HOME");
  const std::string saved = old ? old : "";
  setenv("XDG_CACHE_HOME", dir_.c_str(), 1);
  ModelIdentity m;
  m.name = "my model/Q4.gguf";
  m.file_size = 1;
  m.header_hash = "0123456789abcdef";
  auto path = default_profile_path(m);
  ASSERT_TRUE(path.ok()) << path.message();
  EXPECT_EQ(*path,
            (dir_ / "moe-studio" / "profiles" / "my_model_Q4.gguf-0123456789abcdef.json").string());
  if (old) {
    setenv("XDG_CACHE_HOME", saved.c_str(), 1);
  } else {
    unsetenv("XDG_CACHE_HOME");
  }
}

}  // namespace
}  // namespace moe
