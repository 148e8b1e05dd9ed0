#pragma once
// The raw routing of a run: for every MoE layer, the experts chosen for each token in the order
// the engine routed them. Read from the JSONL trace the engine writes (`--trace FILE`, lines
// {"type":"routing","layer":L,"logits":[...],"experts":[...],...}; other lines are skipped) or
// made synthetically (Zipf popularity + temporal locality) to study policies on skewed routing.
// Per-layer caches are independent, so each layer keeps its own token sequence; tokens of a
// prefill batch appear in position order (the store loads each expert once per batch, so this
// replay counts more accesses than a batched store would — an upper bound on misses).
#include <cstdint>
#include <istream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/status.h"

namespace moe {

/// The chosen experts of one layer, token after token (a flattened ragged array).
class LayerRoute {
 public:
  size_t n_tokens() const { return begin_.size() - 1; }
  std::span<const int16_t> token(size_t t) const {
    return {experts_.data() + begin_[t], begin_[t + 1] - begin_[t]};
  }
  void push(std::span<const int16_t> chosen) {
    experts_.insert(experts_.end(), chosen.begin(), chosen.end());
    begin_.push_back(static_cast<uint32_t>(experts_.size()));
  }
  size_t n_accesses() const { return experts_.size(); }
  const std::vector<int16_t>& flat() const { return experts_; }  ///< every access in order

 private:
  std::vector<int16_t> experts_;
  std::vector<uint32_t> begin_{0};  ///< [n_tokens + 1] offsets into experts_
};

struct RoutingTrace {
  int n_expert = 0;                ///< max of the logits' length and the largest expert id + 1
  int top_k = 0;                   ///< most experts chosen for one token
  uint64_t dropped = 0;            ///< events the trace writer dropped (its trace_end line)
  std::vector<LayerRoute> layers;  ///< [n_layer]

  int n_layer() const { return static_cast<int>(layers.size()); }
  /// Tokens of the longest layer (layers differ only when events were dropped).
  size_t n_tokens() const;
  /// Tokens [begin, end) of every layer (clamped per layer).
  RoutingTrace slice(size_t begin, size_t end) const;
};

/// Parses a JSONL event trace. Errors name `name` and the 1-based line: invalid JSON, a line
/// that is not an object, a routing line without an integer layer in [0, 4096) or with experts
/// that are not integers in [0, 32768). No routing line at all is an error too, and so is a
/// trace of more than 2^20 (layer, expert) pairs.
Result<RoutingTrace> parse_routing_trace(std::istream& in, const std::string& name);
/// parse_routing_trace() of a regular file.
Result<RoutingTrace> load_routing_trace(const std::string& path);

/// A synthetic trace: per layer, expert popularity follows Zipf(s_l) over a random permutation
/// of the experts (s_l = zipf_s times a per-layer factor in [1 - spread, 1 + spread]); each of a
/// token's k experts repeats one of the previous token's with probability `locality`; with
/// probability `drift` per token, two adjacent popularity ranks of a layer swap (slow drift).
struct SyntheticTraceSpec {
  int n_layer = 32, n_expert = 8, top_k = 2;
  int n_tokens = 2000;
  double zipf_s = 1.0, spread = 0.5, locality = 0.3, drift = 0.0;
  uint64_t seed = 1;
};
/// "key=value,..." with the field names above (layers, experts, k, tokens, zipf, spread,
/// locality, drift, seed); unspecified keys keep their defaults.
Result<SyntheticTraceSpec> parse_synthetic_spec(std::string_view text);
RoutingTrace make_synthetic_trace(const SyntheticTraceSpec& spec);

}  // namespace moe
