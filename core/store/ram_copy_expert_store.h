#pragma once
// An expert store that serves every expert from its own RAM copy (64-byte aligned, each
// expert's gate, up and down contiguous), made at construction from another store. Results are
// bit-identical to the mapping's (same bytes, same kernels); tests use it to show that
// executors read weights only through a store, and it is the base the RAM tier builds on.
// Publishes a CacheEvent (hit, RAM) per acquire when the event bus has subscribers.
#include <memory>
#include <vector>

#include "core/store/expert_store.h"

namespace moe {

class RamCopyExpertStore final : public ExpertStore {
 public:
  /// Copies every expert of `model` out of `source` (acquire + release of each once).
  static Result<std::unique_ptr<RamCopyExpertStore>> create(const Model& model,
                                                            ExpertStore& source);

  Status acquire(int layer, int expert, ExpertView& out) override;
  void release(int layer, int expert) override;
  void prefetch(int layer, std::span<const int32_t> experts) override;
  StoreCounters counters() const override { return counters_.load(); }
  std::string_view name() const override { return "RAM copy"; }
  uint64_t bytes() const { return bytes_; }

 private:
  explicit RamCopyExpertStore(const Model& model) : model_(model) {}
  struct FreeDeleter {
    void operator()(uint8_t* p) const;
  };

  const Model& model_;
  std::vector<std::unique_ptr<uint8_t, FreeDeleter>> blocks_;  // one per expert
  std::vector<std::vector<ExpertWeights>> experts_;            // [layer][expert] views of blocks_
  uint64_t bytes_ = 0;
  AtomicStoreCounters counters_;
};

}  // namespace moe
