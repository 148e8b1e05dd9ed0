#pragma once
// `moe-cli plan`: what the tiered store will do with a model under a RAM budget, and what that
// costs per token (design §3.1, issue 14 item 4), before anything runs.
//
// Placement: slots per layer as the store splits the budget (expert_reads.h:
// slots_per_layer); with a routing profile, the experts pinned/hybrid would keep. Bytes per
// tier: resident non-expert weights + KV cache + work buffers; experts in RAM slots; experts on
// disk (the last two add up to the file's expert bytes).
//
// Hit rate h_l per layer: with a trace, the first `split` of its tokens is the profile and the
// rest is replayed through the policy (cache_replay.h, the same numbers as `moe-cli
// cache-sim`); with a profile alone, the s hottest experts' share of its choices (exact for
// pinned on a workload like the profile's); with neither, uniform routing: s / n_expert.
//
// Latency per decoded token (no prefetch), the offloading paper's eq. 6 per miss with the
// store's parallel reads (load_latency.h):
//   load    = Σ_l E[reads_s(m_l)],  m_l ~ Binomial(k, 1 - h_l)  misses of layer l
//   experts = n_layer · ceil(k / threads) · compute_s           (one expert per thread)
//   other   = non-expert bytes streamed per token / (threads · w / compute_s)
//   tok/s   = 1 / (load + experts + other)
// with w, s_dc and compute_s from the calibration (`moe-cli calibrate`), else priors (1 GB/s
// disk, 10 GB/s of weights per thread) — the plan says which.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/model/memory_plan.h"
#include "core/model/model.h"
#include "core/offload/offload_calibration.h"
#include "core/store/cache_policy.h"
#include "core/store/ram_budget.h"
#include "core/store/routing_profile.h"
#include "core/store/routing_trace.h"

namespace moe {

struct PlanRequest {
  RamBudget budget;
  std::optional<CachePolicyKind> policy;  ///< unset: the planner's choice (trace), pinned
                                          ///< (profile), lru (neither)
  double pinned_fraction = 0.5;           ///< hybrid
  const RoutingTrace* trace = nullptr;
  const RoutingProfile* profile = nullptr;  ///< used when there is no trace
  double split = 0.5;                       ///< trace: the profile part
  int n_threads = 1;
  int io_threads = 2;
  int n_ctx = kDefaultContext;
  KvType kv_type = KvType::kF32;
  int experts_per_token = 0;  ///< 0: the model's
  const OffloadCalibration* calibration = nullptr;
};

struct LayerPlan {
  int slots = 0;
  std::vector<int> pinned;  ///< experts kept fixed (pinned/hybrid with a profile), hottest first
  double hit_rate = 0;
  double load_s = 0;  ///< expected expert-load wait per token
};

struct OffloadPlan {
  int n_layer = 0, n_expert = 0, k = 0;
  uint64_t budget_bytes = 0, slot_bytes = 0, slot_bytes_held = 0;
  std::string policy, policy_reason;
  std::vector<LayerPlan> layers;
  // bytes per tier
  uint64_t non_expert_bytes = 0, kv_bytes = 0, compute_buffer_bytes = 0;
  uint64_t expert_bytes = 0, expert_ram_bytes = 0, expert_disk_bytes = 0;
  // hit rate
  double hit_rate = 0;
  std::string hit_rate_source;
  // latency per decoded token
  LoadLatencyModel load;
  double compute_s_per_expert = 0;
  double load_s = 0, experts_s = 0, other_s = 0;
  double tok_per_s = 0;
  std::string speeds_source;
};

/// Errors: a model without experts, a budget below one slot per layer, a trace or profile
/// whose layers or experts are not the model's, a trace too short to split.
Result<OffloadPlan> plan_offload(const Model& model, const PlanRequest& request);

}  // namespace moe
