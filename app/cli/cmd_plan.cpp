// moe-cli plan: the tiered store's placement of a model under a RAM budget, bytes per tier, the
// predicted hit rate (from a trace or profile, else uniform routing) and the predicted expert-
// load latency and decode speed from this machine's calibration (core/offload/offload_plan.h).
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/cli/command.h"
#include "app/cli/validators.h"
#include "core/offload/offload_plan.h"

namespace moe::cli {
namespace {

struct PlanArgs {
  std::string model, budget, policy, profile, trace;
  double pinned_fraction = 0.5, split = 0.5;
  int threads = 0, io_threads = 2, ctx = kDefaultContext;
  bool kv_f16 = false, json = false;
};

constexpr const char* kLatencyModel =
    "per decoded token, no prefetch: load = sum over layers of E[read time of m misses], m ~ "
    "Binomial(k, 1 - hit rate), misses read with the store's I/O threads at the calibrated "
    "s_dc (paper eq. 6 per expert); experts = layers x ceil(k / threads) x compute per expert; "
    "other = non-expert bytes per token at the expert kernels' rate x threads; "
    "tok/s = 1 / (load + experts + other)";

double mib(uint64_t b) {
  return static_cast<double>(b) / 1048576.0;
}

int run_plan(const PlanArgs& a) {
  auto fail = [](const std::string& m, int rc = 1) {
    std::fprintf(stderr, "moe-cli plan: %s\n", m.c_str());
    return rc;
  };
  if (!a.profile.empty() && !a.trace.empty()) return fail("give --profile or --trace, not both", 2);
  PlanRequest rq;
  auto budget = parse_ram_budget(a.budget);
  if (!budget.ok()) return fail("--ram-budget: " + budget.message(), 2);
  rq.budget = *budget;
  if (!a.policy.empty()) {
    auto k = parse_cache_policy(a.policy);
    if (!k.ok()) return fail(k.message(), 2);
    if (*k == CachePolicyKind::kNone) {
      return fail("--policy none keeps no expert in RAM (every use is a disk read): nothing to "
                  "plan",
                  2);
    }
    if (*k != CachePolicyKind::kAuto) rq.policy = *k;  // auto: the planner, as without --policy
  }
  rq.pinned_fraction = a.pinned_fraction;
  rq.split = a.split;
  rq.n_threads = a.threads > 0
                     ? a.threads
                     : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  rq.io_threads = a.io_threads;
  rq.n_ctx = a.ctx;
  rq.kv_type = a.kv_f16 ? KvType::kF16 : KvType::kF32;
  auto model = Model::load(a.model);
  if (!model.ok()) return fail(model.message());
  const Model& m = **model;
  rq.n_ctx = clamp_context(m.hparams(), rq.n_ctx);
  RoutingTrace trace;
  RoutingProfile profile;
  if (!a.trace.empty()) {
    auto t = load_routing_trace(a.trace);
    if (!t.ok()) return fail(t.message());
    trace = std::move(t).value();
    rq.trace = &trace;
  } else if (!a.profile.empty()) {
    const ModelIdentity id = model_identity(m.file());
    auto p = load_profile(a.profile, &id);
    if (!p.ok()) return fail(p.message());
    profile = std::move(p).value();
    // A profile that kept its trace is planned as that trace (the planner's choice, hit rate
    // on the part it did not choose on); a counts-only one by its counts.
    if (profile.has_trace()) {
      rq.trace = &profile.trace;
    } else {
      rq.profile = &profile;
    }
  }
  bool missing = false;
  auto cal = cached_calibration_for(m, &missing);
  if (cal.ok()) {
    rq.calibration = &*cal;
  } else if (!missing) {
    std::fprintf(stderr, "moe-cli plan: ignoring the calibration: %s\n", cal.message().c_str());
  }
  auto plan = plan_offload(m, rq);
  if (!plan.ok()) return fail(plan.message());
  const OffloadPlan& p = *plan;
  if (a.json) {
    nlohmann::json layers = nlohmann::json::array();
    for (const LayerPlan& l : p.layers) {
      layers.push_back({{"slots", l.slots},
                        {"pinned", l.pinned},
                        {"hit_rate", l.hit_rate},
                        {"load_ms", l.load_s * 1e3}});
    }
    const nlohmann::json j = {{"model", a.model},
                              {"n_layer", p.n_layer},
                              {"n_expert", p.n_expert},
                              {"experts_per_token", p.k},
                              {"threads", rq.n_threads},
                              {"io_threads", rq.io_threads},
                              {"ram_budget_bytes", p.budget_bytes},
                              {"slot_bytes", p.slot_bytes},
                              {"slots_per_layer", p.layers.empty() ? 0 : p.layers[0].slots},
                              {"slot_bytes_held", p.slot_bytes_held},
                              {"policy", p.policy},
                              {"policy_reason", p.policy_reason},
                              {"layers", layers},
                              {"bytes",
                               {{"resident_non_expert", p.non_expert_bytes},
                                {"resident_kv_cache", p.kv_bytes},
                                {"resident_compute_buffers", p.compute_buffer_bytes},
                                {"expert_ram", p.expert_ram_bytes},
                                {"expert_disk", p.expert_disk_bytes},
                                {"expert_total", p.expert_bytes}}},
                              {"hit_rate", p.hit_rate},
                              {"hit_rate_source", p.hit_rate_source},
                              {"read_ms_per_expert", p.load.read_s * 1e3},
                              {"s_dc_mb_per_s", p.load.s_dc() / 1e6},
                              {"compute_ms_per_expert", p.compute_s_per_expert * 1e3},
                              {"predicted_load_ms_per_token", p.load_s * 1e3},
                              {"predicted_experts_ms_per_token", p.experts_s * 1e3},
                              {"predicted_other_ms_per_token", p.other_s * 1e3},
                              {"predicted_decode_tok_per_s", p.tok_per_s},
                              {"speeds", p.speeds_source},
                              {"latency_model", kLatencyModel}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  const int slots = p.layers.empty() ? 0 : p.layers[0].slots;
  std::printf("model      %s: %d layers x %d experts, %d per token\n", a.model.c_str(), p.n_layer,
              p.n_expert, p.k);
  std::printf("budget     %.1f MiB: %d of %d slots per layer (%.2f MiB each), %.1f MiB held\n",
              mib(p.budget_bytes), slots, p.n_expert, mib(p.slot_bytes), mib(p.slot_bytes_held));
  std::printf("policy     %s (%s)\n", p.policy.c_str(), p.policy_reason.c_str());
  bool any_pinned = false;
  for (const LayerPlan& l : p.layers) any_pinned = any_pinned || !l.pinned.empty();
  if (any_pinned) {
    std::printf("pinned    ");
    for (size_t l = 0; l < p.layers.size(); ++l) {
      std::printf(" L%zu:", l);
      for (size_t i = 0; i < p.layers[l].pinned.size(); ++i)
        std::printf("%s%d", i ? "," : "", p.layers[l].pinned[i]);
    }
    std::printf("\n");
  }
  std::printf(
      "resident   %.1f MiB non-expert weights + %.1f MiB KV cache (ctx %d) + %.1f MiB "
      "work buffers\n",
      mib(p.non_expert_bytes), mib(p.kv_bytes), rq.n_ctx, mib(p.compute_buffer_bytes));
  std::printf("experts    %.1f MiB in RAM slots + %.1f MiB on disk = %.1f MiB\n",
              mib(p.expert_ram_bytes), mib(p.expert_disk_bytes), mib(p.expert_bytes));
  std::printf("hit rate   %.4f  (%s)\n", p.hit_rate, p.hit_rate_source.c_str());
  std::printf("           per layer:");
  for (const LayerPlan& l : p.layers) std::printf(" %.2f", l.hit_rate);
  std::printf("\n");
  std::printf(
      "speeds     %s: %.2f ms per expert load (mean; %.0f MB/s), %.3f ms compute per expert\n",
      p.speeds_source.c_str(), p.load.read_s * 1e3, p.load.s_dc() / 1e6,
      p.compute_s_per_expert * 1e3);
  std::printf(
      "per token  load %.2f ms + experts %.2f ms + other %.2f ms -> %.1f tok/s predicted "
      "(%d threads, %d I/O threads)\n",
      p.load_s * 1e3, p.experts_s * 1e3, p.other_s * 1e3, p.tok_per_s, rq.n_threads, rq.io_threads);
  std::printf("formula    %s\n", kLatencyModel);
  return 0;
}

const CommandRegistration kPlan{
    77, "plan", "Placement, bytes per tier, hit rate and tok/s predicted for a RAM budget",
    [](CLI::App& app) -> CommandAction {
      auto a = std::make_shared<PlanArgs>();
      app.footer(
          "Hit rate: with --trace, its first --split is the profile and the rest is replayed "
          "(the figures of moe-cli cache-sim); with --profile, the hottest experts' share; "
          "with neither, uniform routing. Speeds: this machine's moe-cli calibrate result for "
          "the model, else priors (said in the output).");
      app.add_option("-m,--model", a->model, "Model file")->required()->check(regular_file());
      app.add_option("--ram-budget", a->budget,
                     "Budget for experts: 12GiB, 512MiB or 50% of expert bytes")
          ->required();
      app.add_option("--policy", a->policy,
                     "auto, lru, lfu, pinned or hybrid (default auto: the planner's choice with "
                     "--trace or a profile that kept its trace, pinned with a counts-only "
                     "profile, else lru)");
      app.add_option("--pinned-fraction", a->pinned_fraction,
                     "--policy hybrid: fraction of a layer's slots pinned")
          ->check(finite_range(0, 1))
          ->capture_default_str();
      app.add_option("--profile", a->profile, "Routing profile (moe-cli profile)")
          ->check(regular_file());
      app.add_option("--trace", a->trace, "JSONL event trace (moe-cli run ... --trace FILE)")
          ->check(regular_file());
      app.add_option("--split", a->split, "--trace: fraction of its tokens used as the profile")
          ->check(finite_range(0, 1, true))
          ->capture_default_str();
      app.add_option("-t,--threads", a->threads, "Compute threads (0: all hardware threads)")
          ->check(CLI::Range(0, 1024))
          ->capture_default_str();
      app.add_option("--io-threads", a->io_threads, "The store's pread threads")
          ->check(CLI::Range(1, 64))
          ->capture_default_str();
      app.add_option("-c,--ctx-size", a->ctx, "Context length for the KV cache bytes")
          ->check(CLI::Range(1, 1 << 24))
          ->capture_default_str();
      app.add_flag("--kv-f16", a->kv_f16, "KV cache in F16");
      app.add_flag("--json", a->json, "Machine-readable JSON output");
      return [a] { return run_plan(*a); };
    }};

}  // namespace
}  // namespace moe::cli
