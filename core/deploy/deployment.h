#pragma once
// A deployment description (design §6 "Assembly"): everything that decides how a model runs on
// this machine — the file, threads, context and KV type, where expert weights live (store),
// how experts are chosen (selector, θ, k, latency source / scenario), and later budgets and
// devices. Every front end (moe-cli commands, the app, tests) fills one and hands it to
// assemble() (core/deploy/assemble.h), the one place that builds the parts from it.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/cuda/cuda_backend.h"
#include "core/engine_api/placement.h"
#include "core/store/cache_policy_kind.h"
#include "core/model/memory_plan.h"
#include "core/store/ram_budget.h"
#include "core/util/status.h"
#include "core/wdmoe/scenario.h"

namespace moe {

class ExpertExecutor;
struct AssemblyContext;

/// Where expert weights are served from.
enum class StoreKind {
  kMapped,   ///< views of the GGUF mapping (default)
  kRamCopy,  ///< a RAM copy of every expert (tests; the RAM tier's base)
  kTiered,   ///< a RAM slot pool under a budget over the file on disk (tiered_expert_store.h)
};
const char* store_kind_name(StoreKind k);
/// "mapped" / "ram-copy" / "tiered" -> kind; an error lists the accepted names.
Result<StoreKind> parse_store_kind(const std::string& name);

enum class SelectorKind {
  kTopK,  ///< Mixtral: the k largest router logits
  kWlr,   ///< WDMoE Algorithm 1: top-k, then drop by weight-to-latency ratio while κ < θ
};
enum class LatencyKind {
  kSimulated,  ///< the scenario's channel and compute model (WDMoE eqs. 2-6)
  kMeasured,   ///< EWMA of real per-device round trips (fed through a LatencySink)
  kTier,       ///< where each expert lives now: compute, + a disk read when not resident
};

/// How experts are chosen: the initial live settings and what the WLR rule reads.
struct SelectionSpec {
  SelectorKind selector = SelectorKind::kTopK;
  int experts_per_token = 0;  ///< 0: the model's
  float theta = 0;
  LatencyKind latency = LatencyKind::kSimulated;
  std::optional<wdmoe::Scenario> scenario;  ///< simulated: empty = the paper's 8 devices
  bool scenario_uses_model_dims = false;    ///< eqs. 4-5 with this model's m, m_h
  int n_devices = 0;                        ///< measured: devices and their placement
  Placement placement;
};

/// Builds the executor the session runs experts with, around the local CPU one (a CUDA or
/// remote-device executor, tests). Gets every part the assembly made.
using ExecutorFactory =
    std::function<Result<std::unique_ptr<ExpertExecutor>>(const AssemblyContext& ctx)>;

struct Deployment {
  std::string model_path;
  int n_threads = 0;                 ///< 0: all hardware threads
  int n_ctx = kDefaultContext;       ///< clamped to the model's training context
  int max_batch = kDefaultMaxBatch;  ///< tokens per forward call
  KvType kv_type = KvType::kF32;
  StoreKind store = StoreKind::kMapped;
  /// Tiered store: experts kept in RAM (a size or a share of the expert bytes). A budget given
  /// to any other store kind is an error in validate(); the CLI picks tiered when one is given.
  std::optional<RamBudget> ram_budget;  ///< tiered without one: 100 %
  /// Tiered: the planner's choice on the routing profile (auto, LRU without one) unless set
  /// (cache_policy_kind.h, store_policy_choice.h).
  CachePolicyKind cache_policy = CachePolicyKind::kAuto;
  /// Tiered auto/pinned/hybrid/lfu: the routing profile the planner replays and the policies
  /// rank experts by (`moe-cli profile`). Empty: the model's saved profile
  /// (default_profile_path()) when there is one. A profile of another model is an error at
  /// assembly.
  std::string profile_path;
  /// Tiered: split the budget's slots toward the layers the profile says gain most (needs a
  /// profile) instead of equally.
  bool adaptive_slots = false;
  bool prefetch = true;    ///< tiered: speculative prefetch of the next layer's experts
  int prefetch_depth = 2;  ///< non-resident experts prefetched per layer, [0, 8]
  int io_threads = 2;      ///< tiered: pread threads for disk reads, [1, 64]
  SelectionSpec selection;
  std::string trace_path;    ///< front ends with a trace: every event as JSONL to this file
  ExecutorFactory executor;  ///< empty: experts run on the local CPU executor (or CUDA)
  /// Who computes the experts when no executor factory is given: the CPU, a CUDA GPU, or
  /// auto (CUDA when a device is present). CUDA with an executor factory (LAN devices) is an
  /// error in validate().
  ComputeBackend backend = ComputeBackend::kCpu;
  int cuda_device = 0;
  std::optional<RamBudget> vram_budget;  ///< CUDA: VRAM for experts; none: all, capped by free
};

/// Checks ranges (threads, context, batch, k, θ) before anything is allocated; the error names
/// the setting and the accepted range.
Status validate(const Deployment& d);

}  // namespace moe
