#pragma once
// Expert selection (design §6): router logits of one token at one MoE layer -> the experts to run
// and their weights. One place for plain top-k (Mixtral) and the WDMoE WLR/θ rule
// (core/wdmoe/wlr_selector.h). Called on the engine thread for every token and layer: no
// allocation.
#include <array>
#include <cstdint>
#include <span>

#include "core/engine_api/events.h"

namespace moe {

constexpr int kMaxExpertsUsed = kMaxEventK;

struct SelectionInput {
  uint64_t step = 0;
  int32_t pos = 0;
  int layer = 0;
  std::span<const float> logits;  ///< [n_expert] router logits
  int k = 2;                      ///< experts per token (live setting)
  float theta = 0;                ///< WDMoE threshold (live setting); 0 = plain top-k
};

struct ExpertSelection {
  int n = 0;
  std::array<int32_t, kMaxExpertsUsed> experts{};
  std::array<float, kMaxExpertsUsed> weights{};  ///< softmax over the kept experts' logits
};

class ExpertSelector {
 public:
  virtual ~ExpertSelector() = default;
  /// Fills `out`. When `event` is non-null the selector describes its decision there (the
  /// θ rule fills kept/dropped/κ/latencies); it returns true if it did.
  virtual bool select(const SelectionInput& in, ExpertSelection& out, SelectionEvent* event) = 0;
  virtual const char* name() const = 0;
};

/// Mixtral semantics: the k largest logits (ties -> lower index), weights = softmax over those
/// k logits (= full softmax renormalised over the chosen).
class TopKSelector final : public ExpertSelector {
 public:
  bool select(const SelectionInput& in, ExpertSelection& out, SelectionEvent* event) override;
  const char* name() const override { return "top-k"; }
};

/// The plain top-k step shared by every selector: indices of the k largest logits, in
/// descending order (ties -> lower index), and their softmax weights.
void top_k_softmax(std::span<const float> logits, int k, ExpertSelection& out);

}  // namespace moe
