// Sampler semantics (llama.cpp's chain) on small constructed logit vectors.
#include <algorithm>
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "core/sampling/sampler.h"

namespace moe {
namespace {

SamplerConfig plain(float temperature) {
  SamplerConfig c;
  c.temperature = temperature;
  c.top_k = 0;
  c.top_p = 1.0f;
  c.min_p = 0.0f;
  c.repeat_penalty = 1.0f;
  return c;
}

std::vector<float> logits_a() {
  return {0.5f, 2.0f, -1.0f, 1.5f, 3.0f, 0.0f, 2.9f, -3.0f};
}

TEST(Sampler, GreedyIsArgmax) {
  Sampler s(plain(0.0f));
  auto l = logits_a();
  EXPECT_EQ(s.sample(l, {}), 4);
  std::vector<float> neg = {-5.0f, -1.0f, -2.0f};
  EXPECT_EQ(s.sample(neg, {}), 1);
}

// Greedy means greedy: with the default settings and temperature 0 the argmax is taken even
// when it was just produced (no repetition penalty unless asked for, as llama.cpp and
// transformers), so greedy output matches other engines token for token.
TEST(Sampler, DefaultGreedyHasNoRepeatPenalty) {
  SamplerConfig c;
  EXPECT_EQ(c.repeat_penalty, 1.0f);
  c.temperature = 0;
  Sampler s(c);
  std::vector<float> l = {1.0f, 1.05f, 0.5f};  // 1.05 / 1.1 would fall below 1.0
  const std::vector<int32_t> history = {1, 1, 1};
  EXPECT_EQ(s.sample(l, history), 1);
}

TEST(Sampler, TopK1IsArgmaxAtAnyTemperature) {
  SamplerConfig c = plain(5.0f);
  c.top_k = 1;
  Sampler s(c);
  for (int i = 0; i < 200; ++i) {
    auto l = logits_a();
    ASSERT_EQ(s.sample(l, {}), 4);
  }
}

TEST(Sampler, SameSeedSameTokens) {
  SamplerConfig c;  // defaults: T 0.7, top-k 40, top-p 0.95, min-p 0.05, no penalty
  c.temperature = 1.5f;
  std::vector<float> base(1000);
  for (size_t i = 0; i < base.size(); ++i) base[i] = std::sin(static_cast<float>(i) * 0.37f) * 3;
  auto run = [&](uint64_t seed) {
    c.seed = seed;
    Sampler s(c);
    std::vector<int32_t> out;
    for (int i = 0; i < 100; ++i) {
      auto l = base;
      out.push_back(s.sample(l, out));
    }
    return out;
  };
  const auto a = run(7), b = run(7), d = run(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, d);
  EXPECT_GT(std::set<int32_t>(a.begin(), a.end()).size(), 3u);  // it really samples
  Sampler s(c);                                                 // reset() restarts the sequence
  std::vector<int32_t> first;
  for (int i = 0; i < 5; ++i) {
    auto l = base;
    first.push_back(s.sample(l, {}));
  }
  s.reset(c);
  for (int i = 0; i < 5; ++i) {
    auto l = base;
    EXPECT_EQ(s.sample(l, {}), first[static_cast<size_t>(i)]);
  }
}

TEST(Sampler, TemperatureFrequenciesMatchSoftmax) {
  const float t = 0.8f;
  Sampler s(plain(t));
  const auto base = logits_a();
  std::vector<double> p(base.size());
  double sum = 0;
  for (size_t i = 0; i < base.size(); ++i) sum += p[i] = std::exp(base[i] / t);
  for (double& x : p) x /= sum;
  const int n = 40000;
  std::vector<int> count(base.size());
  for (int i = 0; i < n; ++i) {
    auto l = base;
    ++count[static_cast<size_t>(s.sample(l, {}))];
  }
  for (size_t i = 0; i < base.size(); ++i) {
    const double f = static_cast<double>(count[i]) / n;
    // 5 standard deviations of a binomial frequency, plus a little.
    const double tol = 5 * std::sqrt(p[i] * (1 - p[i]) / n) + 1e-3;
    EXPECT_NEAR(f, p[i], tol) << "token " << i;
  }
}

std::set<int32_t> support(SamplerConfig c, const std::vector<float>& base, int draws = 3000) {
  Sampler s(c);
  std::set<int32_t> seen;
  for (int i = 0; i < draws; ++i) {
    auto l = base;
    seen.insert(s.sample(l, {}));
  }
  return seen;
}

TEST(Sampler, TopPKeepsSmallestPrefixReachingP) {
  // Probabilities 0.5, 0.25, 0.125, 0.0625, 0.0625 (logits = ln p).
  const std::vector<float> base = {std::log(0.125f), std::log(0.5f), std::log(0.0625f),
                                   std::log(0.25f), std::log(0.0625f)};
  SamplerConfig c = plain(1.0f);
  c.top_p = 0.7f;  // 0.5 < 0.7 <= 0.75: tokens 1 and 3
  EXPECT_EQ(support(c, base), (std::set<int32_t>{1, 3}));
  c.top_p = 0.8f;  // 0.75 < 0.8 <= 0.875: plus token 0
  EXPECT_EQ(support(c, base), (std::set<int32_t>{0, 1, 3}));
  c.top_p = 0.4f;
  EXPECT_EQ(support(c, base), (std::set<int32_t>{1}));
}

TEST(Sampler, MinPCutsBelowFractionOfMax) {
  const std::vector<float> base = {std::log(0.125f), std::log(0.5f), std::log(0.0625f),
                                   std::log(0.25f), std::log(0.0625f)};
  SamplerConfig c = plain(1.0f);
  c.min_p = 0.2f;  // keep p >= 0.1: tokens 0 (0.125), 1, 3
  EXPECT_EQ(support(c, base), (std::set<int32_t>{0, 1, 3}));
  c.min_p = 0.3f;  // keep p >= 0.15
  EXPECT_EQ(support(c, base), (std::set<int32_t>{1, 3}));
  c.top_k = 2;  // top-k first, then min-p on what is left
  c.min_p = 0.6f;
  EXPECT_EQ(support(c, base), (std::set<int32_t>{1}));
}

// min_p > 1 (e.g. `moe-cli run --min-p 2`) used to leave no candidate and read cand_[-1].
TEST(Sampler, MinPAboveOneKeepsTheMostLikelyToken) {
  SamplerConfig c = plain(1.0f);
  c.min_p = 2.0f;
  EXPECT_EQ(support(c, logits_a()), (std::set<int32_t>{4}));
  c.top_k = 3;  // sorted path
  EXPECT_EQ(support(c, logits_a()), (std::set<int32_t>{4}));
}

// NaN logits (a broken model) made min-p keep nothing: with the default chain this read
// cand_[-1] (heap-buffer-overflow under ASan). Any in-range token is acceptable.
TEST(Sampler, NanLogitsNeverReadOutOfBounds) {
  for (int top_k : {0, 40}) {
    SamplerConfig c;  // defaults: min_p 0.05
    c.top_k = top_k;
    Sampler s(c);
    for (int i = 0; i < 50; ++i) {
      std::vector<float> l = {NAN, 1.0f, NAN, 2.0f, NAN};
      const int32_t t = s.sample(l, {});
      EXPECT_GE(t, 0);
      EXPECT_LT(t, 5);
    }
  }
}

TEST(Sampler, TopKKeepsKLargest) {
  SamplerConfig c = plain(10.0f);
  c.top_k = 3;
  EXPECT_EQ(support(c, logits_a()), (std::set<int32_t>{1, 4, 6}));
}

TEST(Sampler, RepetitionPenaltyChangesArgmax) {
  SamplerConfig c = plain(0.0f);
  c.repeat_penalty = 1.5f;
  c.repeat_last_n = 3;
  Sampler s(c);
  // 4 is the argmax (3.0); penalised once: 3.0 / 1.5 = 2.0 < 2.9 (token 6).
  auto l = logits_a();
  const std::vector<int32_t> hist = {4, 4, 4};
  EXPECT_EQ(s.sample(l, hist), 6);
  EXPECT_FLOAT_EQ(l[4], 2.0f);  // each distinct token penalised once, not three times
  // Negative logits are multiplied: -1 * 1.5 = -1.5.
  auto l2 = logits_a();
  const std::vector<int32_t> hist2 = {2};
  s.sample(l2, hist2);
  EXPECT_FLOAT_EQ(l2[2], -1.5f);
  // Only the last n tokens count: 4 is outside the window of 3.
  auto l3 = logits_a();
  const std::vector<int32_t> hist3 = {4, 0, 1, 5};
  EXPECT_EQ(s.sample(l3, hist3), 4);
  EXPECT_FLOAT_EQ(l3[4], 3.0f);
  // Out-of-range history ids are ignored.
  auto l4 = logits_a();
  const std::vector<int32_t> hist4 = {-1, 99};
  EXPECT_EQ(s.sample(l4, hist4), 4);
}

// validate() is what Engine::generate applies to every request: NaN, infinities and values
// outside a setting's range are refused with the setting's name; the defaults and the edges
// of every range pass.
TEST(Sampler, ValidateRejectsNonFiniteAndOutOfRangeSettings) {
  EXPECT_TRUE(validate(SamplerConfig{}).ok());
  EXPECT_TRUE(validate(plain(0.0f)).ok());
  SamplerConfig edge;
  edge.top_p = 0;
  edge.min_p = 1;
  edge.top_k = 0;
  edge.repeat_last_n = 0;
  EXPECT_TRUE(validate(edge).ok());
  const auto error_of = [](void (*edit)(SamplerConfig&)) {
    SamplerConfig c;
    edit(c);
    const Status s = validate(c);
    return s.ok() ? std::string("(accepted)") : s.message();
  };
  EXPECT_EQ(error_of([](SamplerConfig& c) { c.temperature = NAN; }),
            "sampler: temperature = nan is outside [0, inf) (0: greedy)");
  EXPECT_NE(error_of([](SamplerConfig& c) { c.temperature = INFINITY; }).find("temperature"),
            std::string::npos);
  EXPECT_NE(error_of([](SamplerConfig& c) { c.temperature = -1; }).find("temperature"),
            std::string::npos);
  EXPECT_EQ(error_of([](SamplerConfig& c) { c.top_p = 7; }),
            "sampler: top_p = 7 is outside [0, 1] (1: off)");
  EXPECT_NE(error_of([](SamplerConfig& c) { c.top_p = NAN; }).find("top_p"), std::string::npos);
  EXPECT_NE(error_of([](SamplerConfig& c) { c.min_p = -0.5f; }).find("min_p"), std::string::npos);
  EXPECT_NE(error_of([](SamplerConfig& c) { c.min_p = NAN; }).find("min_p"), std::string::npos);
  EXPECT_NE(error_of([](SamplerConfig& c) { c.top_k = -5; }).find("top_k = -5"), std::string::npos);
  EXPECT_NE(error_of([](SamplerConfig& c) { c.repeat_penalty = 0; }).find("repeat_penalty"),
            std::string::npos);
  EXPECT_NE(error_of([](SamplerConfig& c) { c.repeat_penalty = NAN; }).find("repeat_penalty"),
            std::string::npos);
  EXPECT_NE(error_of([](SamplerConfig& c) { c.repeat_last_n = -1; }).find("repeat_last_n"),
            std::string::npos);
}

}  // namespace
}  // namespace moe
