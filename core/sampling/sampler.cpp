// Token sampling with llama.cpp's semantics (common sampler chain):
//   repetition penalty: each distinct token of the last n: logit > 0 ? logit / p : logit * p
//   top-k: keep the k largest logits
//   top-p: softmax over what is left, keep the smallest prefix (by probability) whose mass >= p
//   min-p: keep tokens with prob >= min_p * max prob, i.e. logit >= max_logit + ln(min_p)
//   temperature: draw from softmax(logit / T) over the kept tokens
#include "core/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include "core/util/check.h"

namespace moe {
namespace {

// Descending logit, ties by ascending id: a total order, so results do not depend on the sort.
bool higher(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace

Status validate(const SamplerConfig& c) {
  const auto outside = [](const char* name, double v, const char* range) {
    return make_error("sampler: ", name, " = ", num(v), " is outside ", range);
  };
  if (!std::isfinite(c.temperature) || c.temperature < 0) {
    return outside("temperature", c.temperature, "[0, inf) (0: greedy)");
  }
  if (c.top_k < 0) return outside("top_k", c.top_k, "[0, n_vocab] (0: off)");
  if (!(c.top_p >= 0 && c.top_p <= 1)) return outside("top_p", c.top_p, "[0, 1] (1: off)");
  if (!(c.min_p >= 0 && c.min_p <= 1)) return outside("min_p", c.min_p, "[0, 1] (0: off)");
  if (!std::isfinite(c.repeat_penalty) || c.repeat_penalty <= 0) {
    return outside("repeat_penalty", c.repeat_penalty, "(0, inf) (1: off)");
  }
  if (c.repeat_last_n < 0) return outside("repeat_last_n", c.repeat_last_n, "[0, inf)");
  return {};
}

Sampler::Sampler(const SamplerConfig& config) {
  reset(config);
}

void Sampler::reset(const SamplerConfig& config) {
  config_ = config;
  rng_.seed(config.seed);
}

double Sampler::uniform01() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

void Sampler::apply_repeat_penalty(std::span<float> logits, std::span<const int32_t> history) {
  const float p = config_.repeat_penalty;
  if (p == 1.0f || config_.repeat_last_n <= 0 || history.empty()) return;
  const size_t n = std::min(history.size(), static_cast<size_t>(config_.repeat_last_n));
  const auto recent = history.subspan(history.size() - n);
  if (seen_.size() < logits.size()) seen_.assign(logits.size(), 0);
  for (int32_t t : recent) {
    if (t < 0 || static_cast<size_t>(t) >= logits.size() || seen_[static_cast<size_t>(t)]) continue;
    seen_[static_cast<size_t>(t)] = 1;
    float& l = logits[static_cast<size_t>(t)];
    l = l > 0.0f ? l / p : l * p;
  }
  for (int32_t t : recent) {  // clear only what was set: O(n), not O(n_vocab)
    if (t >= 0 && static_cast<size_t>(t) < seen_.size()) seen_[static_cast<size_t>(t)] = 0;
  }
}

size_t Sampler::truncate(size_t n) {
  bool sorted = false;
  if (config_.top_k > 0 && static_cast<size_t>(config_.top_k) < n) {
    std::partial_sort(cand_.begin(), cand_.begin() + config_.top_k, cand_.begin() + n, higher);
    n = static_cast<size_t>(config_.top_k);
    sorted = true;
  }
  if (config_.top_p < 1.0f && n > 1) {
    if (!sorted) std::sort(cand_.begin(), cand_.begin() + n, higher);
    sorted = true;
    const float max_l = cand_[0].first;
    double sum = 0.0;
    for (size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(cand_[i].first - max_l));
    double cum = 0.0;
    for (size_t i = 0; i < n; ++i) {
      cum += std::exp(static_cast<double>(cand_[i].first - max_l)) / sum;
      if (cum >= config_.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  if (config_.min_p > 0.0f && n > 1) {
    float max_l = cand_[0].first;
    if (!sorted)
      for (size_t i = 1; i < n; ++i) max_l = std::max(max_l, cand_[i].first);
    const float threshold = max_l + std::log(config_.min_p);
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {  // stable compaction keeps the order
      if (cand_[i].first >= threshold) cand_[kept++] = cand_[i];
    }
    if (kept == 0) {  // min_p > 1 (or NaN logits): keep the single most likely candidate
      cand_[0] =
          *std::min_element(cand_.begin(), cand_.begin() + static_cast<ptrdiff_t>(n), higher);
      kept = 1;
    }
    n = kept;
  }
  return n;
}

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> history) {
  MOE_CHECK(!logits.empty(), "Sampler::sample: empty logits");
  apply_repeat_penalty(logits, history);
  if (config_.temperature <= 0.0f) {
    return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  if (cand_.capacity() < logits.size()) cand_.reserve(logits.size());
  cand_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) cand_[i] = {logits[i], static_cast<int32_t>(i)};
  const size_t n = truncate(logits.size());

  // softmax(logit / T) over the kept candidates, then invert the CDF at u ~ U[0, 1).
  float max_l = cand_[0].first;
  for (size_t i = 1; i < n; ++i) max_l = std::max(max_l, cand_[i].first);
  const double inv_t = 1.0 / static_cast<double>(config_.temperature);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += std::exp((cand_[i].first - max_l) * inv_t);
  const double target = uniform01() * sum;
  double cum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    cum += std::exp((cand_[i].first - max_l) * inv_t);
    if (target < cum) return cand_[i].second;
  }
  return cand_[n - 1].second;  // rounding: u * sum landed at the very end
}

}  // namespace moe
