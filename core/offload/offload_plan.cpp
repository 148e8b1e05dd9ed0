#include "core/offload/offload_plan.h"

#include <algorithm>
#include <cmath>

#include "core/store/cache_replay.h"
#include "core/store/expert_reads.h"
#include "core/store/slot_allocation.h"

namespace moe {
namespace {

// Priors until `moe-cli calibrate` has measured (the same as tier-aware selection's).
constexpr double kPriorDiskBytesPerS = 1e9;
constexpr double kPriorWeightBytesPerS = 10e9;

// E[reads_s(m)] over m ~ Binomial(k, 1 - h): the expected load wait of a layer per token.
double expected_load_s(const LoadLatencyModel& load, int k, double h, int io_threads) {
  double t = 0;
  const double p = std::clamp(1.0 - h, 0.0, 1.0);
  for (int m = 1; m <= k; ++m) {
    double binom = 1;  // C(k, m)
    for (int i = 1; i <= m; ++i) binom = binom * (k - m + i) / i;
    t += binom * std::pow(p, m) * std::pow(1 - p, k - m) * load.reads_s(m, io_threads);
  }
  return t;
}

Status check_dims(const char* what, int n_layer, int n_expert, const Model& model) {
  if (n_layer != model.n_layer() || n_expert > model.hparams().n_expert) {
    return make_error("the ", what, " has ", std::to_string(n_layer), " layers of ",
                      std::to_string(n_expert), " experts; the model has ",
                      std::to_string(model.n_layer()), " of ",
                      std::to_string(model.hparams().n_expert));
  }
  return {};
}

}  // namespace

Result<OffloadPlan> plan_offload(const Model& model, const PlanRequest& rq) {
  const HParams& hp = model.hparams();
  if (!hp.moe || model.n_layer() == 0 || model.layer(0).experts.empty()) {
    return make_error(model.file().path(),
                      ": not a mixture-of-experts model (no experts to place)");
  }
  OffloadPlan p;
  p.n_layer = model.n_layer();
  p.n_expert = hp.n_expert;
  p.k = std::clamp(rq.experts_per_token > 0 ? rq.experts_per_token : hp.n_expert_used, 1,
                   hp.n_expert);
  // Placement, as the tiered store sizes it.
  p.slot_bytes = max_expert_read_bytes(model);
  const uint64_t all_slots = p.slot_bytes * static_cast<uint64_t>(p.n_expert * p.n_layer);
  p.budget_bytes = rq.budget.resolve(all_slots);
  const uint64_t min_budget = p.slot_bytes * static_cast<uint64_t>(p.n_layer);
  if (p.budget_bytes < min_budget) {
    return make_error("RAM budget ", format_bytes(p.budget_bytes), " is below the minimum of ",
                      format_bytes(min_budget), " (", std::to_string(min_budget),
                      " bytes: one expert slot per layer, ", std::to_string(p.n_layer), " layers)");
  }
  const int slots = slots_per_layer(p.budget_bytes, p.n_layer, p.slot_bytes, p.n_expert);
  const std::vector<int> layer_slots(static_cast<size_t>(p.n_layer), slots);
  p.slot_bytes_held = p.slot_bytes * static_cast<uint64_t>(slots * p.n_layer);

  // Policy and hit rate.
  RoutingProfile prior;
  PolicyConfig policy;
  policy.kind = rq.policy.value_or(CachePolicyKind::kLru);
  policy.pinned_fraction = rq.pinned_fraction;
  std::vector<double> hit(static_cast<size_t>(p.n_layer), 0.0);
  if (rq.trace != nullptr) {
    const RoutingTrace& t = *rq.trace;
    MOE_TRY(check_dims("trace", t.n_layer(), t.n_expert, model));
    const size_t n = t.n_tokens();
    const auto n_profile = static_cast<size_t>(std::floor(rq.split * static_cast<double>(n)));
    if (n_profile == 0 || n_profile >= n) {
      return make_error("the trace has ", std::to_string(n),
                        " tokens: too few to split into a profile part and a replay part");
    }
    const RoutingTrace profile_part = t.slice(0, n_profile), replay = t.slice(n_profile, n);
    prior = profile_from_trace(profile_part);
    if (!rq.policy) {
      const CachePlan cp = plan_cache_policy(profile_part, prior, layer_slots);
      policy = cp.chosen;
      p.policy_reason = "the planner's choice on the profile part: " + cp.reason;
    }
    const ReplayResult r = replay_policy(replay, prior, layer_slots, policy);
    p.hit_rate = r.total.rate();
    for (size_t l = 0; l < hit.size() && l < r.layers.size(); ++l) hit[l] = r.layers[l].rate();
    p.hit_rate_source = "replay of trace tokens [" + std::to_string(n_profile) + ", " +
                        std::to_string(n) + ") after a profile of tokens [0, " +
                        std::to_string(n_profile) + ") (as moe-cli cache-sim)";
  } else if (rq.profile != nullptr) {
    prior = *rq.profile;
    MOE_TRY(check_dims("profile", prior.n_layer(), prior.n_expert, model));
    if (!rq.policy) {
      policy.kind = CachePolicyKind::kPinned;
      p.policy_reason = "a profile without its trace: its hottest experts pinned";
    }
    const HitCurves curves = profile_hit_curves(prior);
    double hits = 0, total = 0;
    for (size_t l = 0; l < hit.size(); ++l) {
      const auto& c = curves[l];  // c[s]: choices of the s hottest experts
      if (c.empty() || c.back() <= 0) continue;
      const double kept = c[std::min(static_cast<size_t>(slots), c.size() - 1)];
      hit[l] = kept / c.back();
      hits += kept;
      total += c.back();
    }
    p.hit_rate = total > 0 ? hits / total : 0;
    p.hit_rate_source =
        "profile estimate: the " + std::to_string(slots) +
        " hottest experts' share of its choices per layer (exact for pinned on a workload like "
        "the profile's)";
  } else {
    for (double& h : hit) h = static_cast<double>(slots) / p.n_expert;
    p.hit_rate = static_cast<double>(slots) / p.n_expert;
    p.hit_rate_source = "uniform-routing estimate (slots / experts; no profile or trace given)";
  }
  if (p.policy_reason.empty()) p.policy_reason = rq.policy ? "as asked" : "default (no profile)";
  p.policy = policy.label();

  // Pinned experts, and bytes per tier. A layer's RAM bytes: its pinned experts, then the
  // largest others up to its slots (experts of a layer are the same size in practice).
  p.non_expert_bytes = model.non_expert_bytes();
  const MemoryPlan mem = plan_memory(model, rq.n_ctx, rq.kv_type, kDefaultMaxBatch, rq.n_threads);
  p.kv_bytes = mem.kv_cache_bytes;
  p.compute_buffer_bytes = mem.compute_bytes;
  for (int l = 0; l < p.n_layer; ++l) {
    LayerPlan lp;
    lp.slots = slots;
    lp.hit_rate = hit[static_cast<size_t>(l)];
    if (!prior.counts.empty() &&
        (policy.kind == CachePolicyKind::kPinned || policy.kind == CachePolicyKind::kHybrid)) {
      const auto cache = make_layer_cache(policy.kind, p.n_expert, slots, prior.layer(l),
                                          policy.pinned_slots(slots));
      lp.pinned = cache->pinned();
    }
    const auto& experts = model.layer(l).experts;
    std::vector<uint64_t> others;
    uint64_t ram = 0, all = 0;
    for (size_t e = 0; e < experts.size(); ++e) {
      const uint64_t b = experts[e].bytes();
      all += b;
      if (std::find(lp.pinned.begin(), lp.pinned.end(), static_cast<int>(e)) != lp.pinned.end()) {
        ram += b;
      } else {
        others.push_back(b);
      }
    }
    std::sort(others.rbegin(), others.rend());
    const size_t free_slots =
        static_cast<size_t>(std::max<int>(0, slots - static_cast<int>(lp.pinned.size())));
    for (size_t i = 0; i < free_slots && i < others.size(); ++i) ram += others[i];
    p.expert_bytes += all;
    p.expert_ram_bytes += ram;
    p.expert_disk_bytes += all - ram;
    p.layers.push_back(std::move(lp));
  }

  // Latency per decoded token.
  const OffloadCalibration* c = rq.calibration;
  if (c != nullptr && c->read_s > 0) {
    p.load = c->load_model();
    if (p.load.read_bytes != p.slot_bytes) {  // measured at another size: keep its rate
      p.load.read_s *= static_cast<double>(p.slot_bytes) / static_cast<double>(p.load.read_bytes);
      p.load.read_bytes = p.slot_bytes;
    }
    p.speeds_source = "calibration (" + c->source + ")";
  } else {
    p.load = LoadLatencyModel::from_rate(p.slot_bytes, kPriorDiskBytesPerS);
    p.speeds_source =
        "priors: disk 1 GB/s, 10 GB/s of weights per thread (run moe-cli calibrate -m MODEL)";
  }
  p.compute_s_per_expert =
      c != nullptr && c->compute_s > 0
          ? c->compute_s
          : static_cast<double>(model.layer(0).experts[0].bytes()) / kPriorWeightBytesPerS;
  const int threads = std::max(1, rq.n_threads);
  for (LayerPlan& lp : p.layers) {
    lp.load_s = expected_load_s(p.load, p.k, lp.hit_rate, rq.io_threads);
    p.load_s += lp.load_s;
  }
  p.experts_s = p.n_layer * std::ceil(static_cast<double>(p.k) / threads) * p.compute_s_per_expert;
  // Non-expert weights streamed per token: all but the embedding table, of which one row.
  const MatrixView& emb = model.tok_embd();
  const double active_other =
      static_cast<double>(p.non_expert_bytes) -
      static_cast<double>(emb.bytes()) * (1.0 - 1.0 / std::max<int64_t>(emb.n_out, 1));
  const double per_thread_rate =
      static_cast<double>(model.layer(0).experts[0].bytes()) / p.compute_s_per_expert;
  p.other_s = active_other / (per_thread_rate * threads);
  const double total = p.load_s + p.experts_s + p.other_s;
  p.tok_per_s = total > 0 ? 1.0 / total : 0;
  return p;
}

}  // namespace moe
