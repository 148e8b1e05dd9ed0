#pragma once
// The default expert store: views straight into the GGUF file mapping (merged
// ffn_*_exps tensors and per-expert ffn_*.E tensors alike; Model binds both). Nothing is
// copied; the OS pages experts in on first use. It owns the pre-fault policy: a model file
// smaller than half the RAM has its experts paged in at load (warm()), so the first answer is
// not slowed by page faults; a larger one leaves them to the page cache on demand (the tiered
// store with budgets replaces this for models larger than memory).
#include "core/store/expert_store.h"

namespace moe {

class MappedExpertStore final : public ExpertStore {
 public:
  /// `ram_bytes`: physical memory the policy compares the file with (0: this machine's).
  explicit MappedExpertStore(const Model& model, uint64_t ram_bytes = 0);

  Status acquire(int layer, int expert, ExpertView& out) override;
  void release(int layer, int expert) override;
  void prefetch(int layer, std::span<const int32_t> experts) override;
  StoreCounters counters() const override { return counters_.load(); }
  std::string_view name() const override { return "mapped"; }
  uint64_t warm_bytes() const override { return warm_all_ ? model_.expert_bytes() : 0; }
  Status warm(const WarmProgress& progress) override;

 private:
  const Model& model_;
  bool warm_all_;
  AtomicStoreCounters counters_;
};

/// Physical memory of this machine in bytes.
uint64_t physical_memory_bytes();
/// Checks (layer, expert) against the model; the error names both.
Status check_expert_index(const Model& model, int layer, int expert);

}  // namespace moe
