#pragma once
// The tiered expert store (design §3.1, [P1] §3.3, issue 14): experts live in a RAM slot pool
// sized from a byte budget, the rest stay on disk in the GGUF file itself and are read on
// demand, past the page cache (DirectReader: O_DIRECT into aligned buffers), by a small pool
// of pread threads. Non-expert weights stay in the file mapping as with the mapped store.
//
// Slots. Each layer gets an equal share of the budget, budget / n_layer, and as many slots as
// whole expert buffers fit in it; or (adaptive_slots) the budget's whole slots are split by
// the routing profile's hit curves (slot_allocation.h). Every slot has the same size, so either
// split holds at most budget / slot bytes buffers.
// A slot buffer holds the aligned superset read of the expert's gate, up and down ranges (both
// tensor layouts: three slices of merged ffn_*_exps tensors, or three per-expert tensors); the
// ExpertWeights views point into it at the right offsets, so the kernels read the same bytes as
// from the mapping: bit-identical results. A `50%` budget is half of all slot bytes (the expert
// bytes plus the alignment slack of each read, under 1 % on real models).
//
// Byte accounting. held_bytes() counts every slot buffer allocated: resident experts, loads in
// flight (a slot is taken when the load is queued), and free buffers kept for reuse. Invariant:
// held_bytes() <= budget, except for experts in use (acquired, not yet released) that do not
// fit in their layer's slots — a layer whose executor holds more experts at once than it has
// slots (a prefill batch, k > slots) gets those as transient buffers freed at release, and
// after a shrinking set_ram_budget() the residents in use leave at release.
//
// Prefetch. prefetch(layer, ranked experts) queues loads for at most the current depth of them
// that are not resident (prefetch_depth is the most; the depth follows the measured accuracy,
// prefetch_depth.h); demand loads go to the front of the I/O queue (a demand for a queued
// prefetch promotes it). issued = used (acquired before eviction) + wasted (evicted unused, or
// failed) + pending (resident or loading, not used yet).
//
// Threads: acquire/release/prefetch on the engine thread; set_ram_budget, stats and counters
// from any thread. One mutex guards the state; reads run outside it.
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/store/cache_policy.h"
#include "core/store/direct_reader.h"
#include "core/store/expert_reads.h"
#include "core/store/expert_store.h"
#include "core/store/load_latency.h"
#include "core/store/prefetch_depth.h"
#include "core/store/routing_profile.h"
#include "core/store/cache_replay.h"
#include "core/store/slot_allocation.h"
#include "core/store/store_policy_choice.h"
#include "core/store/tiered_store_stats.h"

namespace moe {

struct TieredStoreOptions {
  uint64_t ram_budget_bytes = 0;
  double ram_budget_percent = 0;  ///< > 0: instead of bytes, this share of all_experts_bytes()
  /// kAuto: the planner's per-layer choice on the profile's trace, LRU without one
  /// (store_policy_choice.h); kNone: no slots, every use read from disk (prefetch off).
  CachePolicyKind policy = CachePolicyKind::kLru;
  bool prefetch = true;
  int prefetch_depth = 2;  ///< most non-resident experts queued per prefetch() call
  int io_threads = 2;      ///< pread threads
  bool direct_io = true;   ///< false: buffered pread + fadvise (tests of the fallback)
  /// A recorded routing profile of this model (routing_profile.h; may be empty): pinned and
  /// hybrid pin its hottest experts of each layer, LFU starts from its counts, and warm-up
  /// loads every layer's experts hottest first. Without one, pinned/hybrid pin ids 0, 1, ...
  /// The caller checks that it belongs to the model; create() checks its dimensions.
  RoutingProfile profile;
  std::string profile_source;  ///< where it came from, for the backend line (a path)
  /// Slots per layer: false, an equal share of the budget each; true, the same total split
  /// toward the layers the profile's hit curves say gain most (allocate_slots_adaptive, at
  /// least k slots each while the budget allows). Needs a profile.
  bool adaptive_slots = false;
  /// auto: accesses per layer before PolicyGuard may move a layer whose planned policy a
  /// shadow LRU beats to LRU (store_policy_choice.h); 0: never.
  int auto_guard_window = 64;
};

class TieredExpertStore final : public ExpertStore {
 public:
  /// Opens the model file a second time for direct reads and sizes the slots. Errors: a file
  /// only in memory, a budget below min_budget_bytes() (the message names the minimum).
  static Result<std::unique_ptr<TieredExpertStore>> create(const Model& model,
                                                           const TieredStoreOptions& options);
  ~TieredExpertStore() override;

  Status acquire(int layer, int expert, ExpertView& out) override;
  Status acquire_many(int layer, std::span<const int32_t> experts,
                      std::span<ExpertView> out) override;
  void release(int layer, int expert) override;
  void prefetch(int layer, std::span<const int32_t> experts) override;
  StoreCounters counters() const override { return counters_.load(); }
  std::string_view name() const override { return "tiered"; }
  std::string describe() const override;
  bool wants_prefetch() const override { return options_.prefetch; }
  /// kRam while (layer, expert) is resident in a slot, else kDisk. Lock-free (an atomic per
  /// expert): the tier-aware latency source asks it for every candidate expert.
  Tier tier_of(int layer, int expert) const override;
  /// Measured disk -> RAM rate of demand and prefetch loads (bytes of all loads / their read
  /// time); 0 until the first load after warm-up. Any thread.
  double read_bytes_per_s() const;
  /// Predicted wait of acquire_many(layer, experts) now (design §3.1, load_latency.h): 0 when
  /// all are resident; else the reads it must start plus what is left of every read in flight
  /// (they share the disk), at the calibrated rate for that many reads at once. Made before
  /// the loads start, from residency.
  double predict_load_s(int layer, std::span<const int32_t> experts) const override;
  /// The disk model predictions use (`moe-cli calibrate`'s, from the assembly place), scaled
  /// by how much slower or faster the store's recent reads ran than it predicted them (the
  /// disk of a shared machine drifts within minutes). Unset: the store's measured reads
  /// (warm-up included), else a 1 GB/s prior.
  void set_load_latency(const LoadLatencyModel& m);
  /// The model predict_load_s() uses now, and where it comes from ("calibration", "calibration
  /// x 1.31 (recent reads)", "measured reads", "prior 1 GB/s").
  LoadLatencyModel load_latency(std::string* source = nullptr) const;
  /// Warm-up at load: every layer's slots filled (hottest first by the profile, else experts
  /// 0, 1, ... in order), so the first
  /// answer does not pay cold misses for what the budget holds anyway (as the mapped store
  /// pages small models in). Not counted in stats().
  uint64_t warm_bytes() const override;
  Status warm(const WarmProgress& progress) override;

  /// Changes the budget from any thread, also while generating. Shrinking evicts evictable
  /// experts now (waiting for prefetches in flight), those in use at their release; growing
  /// gives layers more slots, filled by later misses. Error (budget unchanged) below the minimum.
  Status set_ram_budget(uint64_t bytes);
  uint64_t ram_budget() const;
  uint64_t held_bytes() const;
  /// One slot per layer: n_layer x the largest expert slot of any layer.
  uint64_t min_budget_bytes() const { return min_budget_; }
  /// Slot bytes of every expert of every layer: the RAM a 100 % budget stands for.
  uint64_t all_experts_bytes() const { return all_bytes_; }
  TieredStoreStats stats() const;
  /// Belady's optimal demand hits on the accesses this store has served (every acquire since
  /// warm-up, the first kOracleMaxAccesses of them) with each layer's current slots, starting
  /// from the residents the warm-up left: the bound every policy's hit rate stays under on the
  /// same run without prefetch (cache_replay.h, with bypass). Costs
  /// a replay (O(accesses log slots)): ask at the end of a run, not per token.
  HitStats oracle_hits() const;
  static constexpr size_t kOracleMaxAccesses = size_t{1} << 24;  // 32 MiB of expert ids
  /// Residents of `layer` in the policy's order (LRU: most recent first).
  std::vector<int> residents(int layer) const;
  const std::string& io_note() const { return reader_->note(); }
  /// Blocks until no load is queued or in flight (tests; quiescing before a measurement).
  void wait_for_loads();

 private:
  enum class State : uint8_t { kAbsent, kLoading, kResident, kFailed };
  using Clock = std::chrono::steady_clock;
  struct Entry {
    State state = State::kAbsent;
    bool transient = false;    // outside the cache's slots (freed at release)
    bool speculative = false;  // loaded by prefetch and not used yet
    bool demand = false;       // a demand waits for this load
    int refs = 0;              // acquires not yet released
    uint8_t* buf = nullptr;
    ExpertWeights weights;  // views into buf once resident
    ExpertRanges ranges;    // gate, up, down
    Clock::time_point started{};  // when an I/O thread began its read (kLoading, in flight)
    std::string error;
  };
  struct Layer {
    std::unique_ptr<LayerCache> cache;
    std::vector<Entry> entries;
    std::vector<uint8_t*> free_bufs;
    uint64_t slot_bytes = 0;
    int n_bufs = 0;  // buffers allocated for this layer (resident + loading + free)
  };
  struct Request {
    int layer, expert;
  };

  TieredExpertStore(const Model& model, const TieredStoreOptions& options);
  Status init();
  void advise_mapping();
  void io_loop();
  Status load(int layer, int expert, uint8_t* buf, uint64_t& bytes_read);
  LoadLatencyModel load_latency_locked(std::string* source) const;
  /// Compares one finished read with what the calibration predicted for it (`sharing`: reads
  /// running while it started, itself included) in drift_.
  void note_read_time_locked(int sharing, double seconds);
  void finish_load(int layer, int expert, Status st, uint64_t bytes, double seconds);

  // Everything below with _locked runs under mu_.
  /// Slots of every layer for budget_ (equal or adaptive).
  std::vector<int> slot_split() const;
  void apply_budget_locked();
  bool start_load_locked(int layer, int expert, bool speculative,
                         std::span<const int32_t> keep = {});
  uint8_t* take_buffer_locked(Layer& L);
  void give_buffer_locked(Layer& L, uint8_t* buf);
  void evict_locked(int layer, int expert);
  void drop_over_capacity_locked(int layer);
  void fall_back_to_lru_locked(int layer);
  Status wait_locked(std::unique_lock<std::mutex>& lock, int layer, int expert);
  void fill_view(const Entry& e, ExpertView& out) const;
  void mark_resident(int layer, int expert, bool resident);
  /// Under mu_ (the pinned flag asks the layer's policy).
  void publish(CacheEvent::Kind kind, int layer, int expert, Tier from, Tier to, uint64_t bytes,
               double seconds, uint8_t flags = 0) const;
  ExpertStats& stat(int layer, int expert) {
    return stats_[static_cast<size_t>(layer) * static_cast<size_t>(n_expert_) +
                  static_cast<size_t>(expert)];
  }

  const Model& model_;
  TieredStoreOptions options_;
  std::unique_ptr<DirectReader> reader_;
  int n_expert_ = 0;
  int n_io_ = 1;  // I/O threads (fixed before they start)
  uint64_t min_budget_ = 0, all_bytes_ = 0;
  HitCurves curves_;  // adaptive_slots: the profile's hit curves per layer
  StorePolicyChoice policy_;  // per layer, chosen at create() (auto resolved)
  PolicyGuard guard_;         // auto: may move a layer to LRU at run time

  mutable std::mutex mu_;
  std::condition_variable io_cv_;    // work queued or stopping
  std::condition_variable done_cv_;  // a load finished
  std::vector<Layer> layers_;
  std::deque<Request> demand_q_, prefetch_q_;
  bool stop_ = false;
  int prefetch_in_flight_ = 0;
  PrefetchDepth depth_;  // guesses per prefetch() call now, from their measured accuracy
  bool warming_ = false;    // loads are warm-up: kept out of the statistics
  std::string warm_error_;  // the first failed warm-up load
  uint64_t budget_ = 0, held_ = 0, peak_held_ = 0;
  std::vector<ExpertStats> stats_;
  std::vector<LayerRoute> accesses_;  // [layer] demand accesses, one push per acquire_many
  std::vector<std::vector<int>> warm_residents_;  // [layer] residents after warm() (oracle)
  size_t n_accesses_ = 0;
  std::unique_ptr<std::atomic<uint8_t>[]> resident_;  // [layer * n_expert + expert]
  std::atomic<double> read_rate_{0};
  uint64_t transient_loads_ = 0, evictions_ = 0, loads_ = 0;
  double load_seconds_ = 0;
  uint64_t load_bytes_ = 0;
  double warm_seconds_ = 0;  // warm-up loads: kept out of the statistics, not out of the rate
  uint64_t warm_bytes_ = 0, warm_loads_ = 0;
  LoadLatencyModel latency_;  // calibrated (valid) or unset
  DiskDrift drift_;  // of the disk against latency_, from the reads since it was set
  int reads_running_ = 0;
  std::array<uint64_t, kLatencyBuckets> latency_hist_{};
  AtomicStoreCounters counters_;
  std::vector<std::thread> io_threads_;
};

}  // namespace moe
