#pragma once
// Token sampling. Order (as llama.cpp's common chain): repetition penalty -> top-k -> top-p
// -> min-p -> temperature -> draw. temperature <= 0 is greedy (argmax, after the penalty).
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "core/util/status.h"

namespace moe {

/// Accepted values are what validate() checks; the Engine refuses a request outside them.
struct SamplerConfig {
  float temperature = 0.7f;     ///< >= 0, finite; 0: greedy
  int top_k = 40;               ///< >= 0; 0: off
  float top_p = 0.95f;          ///< [0, 1]; 1: off
  float min_p = 0.05f;          ///< [0, 1]; 0: off
  float repeat_penalty = 1.0f;  ///< > 0, finite; 1: off (the default, as llama.cpp, transformers)
  int repeat_last_n = 64;       ///< >= 0: how many recent tokens the penalty looks at
  uint64_t seed = 42;           ///< same seed + same logits -> same tokens
};

/// Checks every setting against its range (NaN and infinities included); the error names the
/// setting, its value and the accepted range ("sampler: top_p = 7 is outside [0, 1]").
Status validate(const SamplerConfig& config);

class Sampler {
 public:
  explicit Sampler(const SamplerConfig& config);
  void reset(const SamplerConfig& config);
  /// Picks a token from logits[n_vocab] (modified in place); history = tokens so far.
  int32_t sample(std::span<float> logits, std::span<const int32_t> history);
  const SamplerConfig& config() const { return config_; }

 private:
  SamplerConfig config_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> cand_;  // reused: no allocation per token
  std::vector<uint8_t> seen_;  // per-token flag for the penalty's "each distinct token once"

  void apply_repeat_penalty(std::span<float> logits, std::span<const int32_t> history);
  size_t truncate(size_t n);  ///< top-k, top-p, min-p on cand_[0, n); returns the kept count
  double uniform01();         ///< [0, 1) from rng_, the same on every platform
};

}  // namespace moe
