#pragma once
// Expert store (design §6): *where* an expert's weights live, apart from *who computes* with
// them (ExpertExecutor), as ggml separates buffer types from backends. An executor asks the
// store for (layer, expert) with acquire(), computes with the returned view, and release()s it;
// prefetch() is a hint that experts will be wanted soon. Implementations:
//   * MappedExpertStore  — views of the GGUF file mapping (both tensor layouts); the default;
//   * RamCopyExpertStore — its own RAM copy of every expert (tests; the RAM tier's base);
//   * TieredExpertStore  — a RAM slot pool under a byte budget over the file on disk, with a
//     cache policy and speculative prefetch (tiered_expert_store.h); next: the VRAM tier.
// A store may keep an expert in a layout made for its compute tier as long as results stay
// identical. Called on the engine thread (acquire/release once per expert group and layer);
// counters() may be read from any thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "core/engine_api/events.h"
#include "core/engine_api/placement.h"
#include "core/model/model.h"
#include "core/util/status.h"

namespace moe {

/// An acquired expert: its gate/up/down matrices (valid until the matching release()) and
/// where they are.
struct ExpertView {
  const ExpertWeights* weights = nullptr;
  Tier tier = Tier::kRam;
  uint32_t device = 0;  ///< 0: this process (ExecutionPlace::kLocal)
};

struct StoreCounters {
  uint64_t acquires = 0, releases = 0;
  uint64_t hits = 0, misses = 0;  ///< acquires served from the fast tier / that had to load
  uint64_t prefetch_hints = 0;    ///< experts named in prefetch() calls
  uint64_t bytes_loaded = 0;      ///< bytes moved into the fast tier
};

/// Progress of a warm-up: bytes done so far; return false to cancel.
using WarmProgress = std::function<bool(uint64_t bytes_done)>;

class ExpertStore {
 public:
  virtual ~ExpertStore() = default;
  /// Makes (layer, expert) available and fills `out`. Errors (an I/O failure of a disk tier)
  /// name the layer and expert; `out` is then unchanged and nothing needs releasing.
  virtual Status acquire(int layer, int expert, ExpertView& out) = 0;
  virtual void release(int layer, int expert) = 0;
  /// Acquires several experts of one layer at once (a store with a disk tier overlaps their
  /// reads). All or nothing: on an error nothing stays acquired. `out` has experts.size() views.
  virtual Status acquire_many(int layer, std::span<const int32_t> experts,
                              std::span<ExpertView> out);
  /// Hint: these experts of `layer` are likely to be acquired soon. Never blocks.
  virtual void prefetch(int layer, std::span<const int32_t> experts) = 0;
  virtual StoreCounters counters() const = 0;
  /// Where (layer, expert)'s weights are now, for tier-aware selection. Cheap and lock-free:
  /// asked for every candidate expert of every token. The mapped and RAM-copy stores: kRam.
  virtual Tier tier_of(int layer, int expert) const {
    (void)layer;
    (void)expert;
    return Tier::kRam;
  }
  /// Predicted seconds an acquire_many(layer, experts) issued now will wait for loads (design
  /// §3.1 latency model), from where the experts are at this moment. 0 for stores without a
  /// slow tier. Called on the engine thread just before the acquire.
  virtual double predict_load_s(int layer, std::span<const int32_t> experts) const {
    (void)layer;
    (void)experts;
    return 0;
  }
  virtual std::string_view name() const = 0;
  /// One line for the backend line: the name plus budgets and policy where the store has them.
  virtual std::string describe() const { return std::string(name()); }
  /// Whether the forward pass should predict the next layer's experts and call prefetch()
  /// (costs one router matmul per layer; only stores with a slow tier want it).
  virtual bool wants_prefetch() const { return false; }

  /// Bytes warm() will bring in at load (the pre-fault policy), and doing it.
  virtual uint64_t warm_bytes() const { return 0; }
  virtual Status warm(const WarmProgress& progress) { return progress(0) ? Status{} : cancelled(); }
  /// Where CacheEvents go (null: nowhere). Set by the assembly place before use.
  void set_event_bus(EventBus* bus) { bus_ = bus; }

 protected:
  static Status cancelled() { return Error{"model load cancelled"}; }
  EventBus* bus_ = nullptr;
};

/// Counters as relaxed atomics, for stores to share.
struct AtomicStoreCounters {
  std::atomic<uint64_t> acquires{0}, releases{0}, hits{0}, misses{0}, prefetch_hints{0},
      bytes_loaded{0};
  StoreCounters load() const;
};

/// Reads every page of [data, data + bytes) so the OS maps it now (one byte per page), adding
/// the bytes done to `done` and reporting progress every 64 MiB. False: cancelled.
bool touch_pages(const uint8_t* data, uint64_t bytes, uint64_t& done, const WarmProgress& progress);

}  // namespace moe
