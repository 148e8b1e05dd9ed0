#pragma once
// ExpertExecutor on this process' CPU, reading expert weights through an ExpertStore (the file
// mapping, a RAM copy, later a tiered cache): each expert group is acquired before the layer's
// tasks start and released after they end. One layer call: (1) the batch's FFN inputs are quantized once for the gate/up weight type;
// (2) for every expert group and slice of n_ff rows, gate and up rows are streamed once for all
// of the group's tokens and h = silu(gate x) * up x is formed; (3) h is quantized for the down
// type; (4) down rows, likewise per group and slice; (5) out[t] += w * y (WDMoE eq. 1).
// A decode step whose expert groups fill the threads evenly runs (2)-(4) as one task per
// group instead (one dispatch per layer rather than two; same per-row arithmetic).
// Buffers are sized at construction for max_tokens tokens: nothing is allocated per call.
#include <memory>
#include <vector>

#include "core/engine_api/expert_executor.h"
#include "core/engine_api/expert_selection.h"
#include "core/engine/thread_pool.h"
#include "core/model/model.h"
#include "core/store/expert_store.h"

namespace moe {

class CpuExpertExecutor final : public ExpertExecutor {
 public:
  /// Error when the experts of one layer mix weight types within gate, up or down.
  static Result<std::unique_ptr<CpuExpertExecutor>> create(const Model& model, ExpertStore& store,
                                                           ThreadPool& pool, int max_tokens);

  Status run(const ExpertBatch& batch) override;
  void prefetch(int layer, std::span<const int32_t> experts) override {
    store_.prefetch(layer, experts);
  }
  std::string_view name() const override { return "local CPU"; }
  LoadWait load_wait() const override { return load_wait_; }
  ExpertStore& store() const { return store_; }
  /// Bytes of the work buffers, allocated at construction (the memory plan mirrors them).
  uint64_t buffer_bytes() const;

 private:
  CpuExpertExecutor(const Model& model, ExpertStore& store, ThreadPool& pool, int max_tokens);
  void release_all(int layer);
  struct Group {
    int32_t expert, begin, end;  // assignments [begin, end) share `expert`
  };

  const Model& model_;
  ExpertStore& store_;
  ThreadPool& pool_;
  int max_tokens_, max_assign_;
  size_t act_x_stride_, act_h_stride_;
  std::vector<uint8_t> act_x_, act_x2_;  // [max_tokens, act bytes of n_embd] gate (and up) type
  std::vector<uint8_t> act_g_, act_g2_;  // [max_assign, ...] the same, gathered per assignment
  std::vector<uint8_t> act_h_;           // [max_assign, act bytes of n_ff]
  std::vector<float> h_, y_;             // [max_assign, n_ff], [max_assign, n_embd]
  std::vector<float> up_scratch_;        // [n_threads, max(max_tokens * kSub, n_ff)]
  size_t up_stride_ = 0;
  std::vector<Group> groups_;
  std::vector<ExpertView> views_;  // [group] acquired from store_ for the current call
  std::vector<int32_t> group_experts_;  // [group] expert ids, for acquire_many
  LoadWait load_wait_;
};

}  // namespace moe
