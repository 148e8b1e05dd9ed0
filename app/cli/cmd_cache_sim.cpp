// moe-cli cache-sim: replays a recorded routing trace (`moe-cli run ... --trace FILE`) or a
// synthetic one through the expert cache policies and prints the hit rate of each, overall and
// per layer, beside Belady's optimum and the planner's choice (issue 14 item 9). No cheating:
// the profile (counts for LFU/pinned/hybrid, the trace the planner replays, adaptive slots)
// comes from the first part of the trace, the hit rates from the rest.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "app/cli/validators.h"
#include "core/gguf/gguf_file.h"
#include "core/model/inspect.h"
#include "core/store/ram_budget.h"
#include "core/store/cache_replay.h"
#include "core/store/slot_allocation.h"

namespace moe::cli {
namespace {

struct CacheSimArgs {
  std::string trace, synthetic, model, budget, policy = "all", allocation = "equal";
  int slots = -1;
  double split = 0.5, pinned_fraction = 0.5;
  int prefetch_depth = 0;
  double prefetch_accuracy = 0.8;
  bool json = false;
};

int fail(const std::string& msg, int rc = 1) {
  std::fprintf(stderr, "moe-cli cache-sim: %s\n", msg.c_str());
  return rc;
}

/// Total slots from --slots (per layer) or --ram-budget (bytes of experts with -m, else only a
/// percentage of all experts).
Result<int> total_slots(const CacheSimArgs& a, const RoutingTrace& t) {
  const uint64_t n_all = static_cast<uint64_t>(t.n_layer()) * static_cast<uint64_t>(t.n_expert);
  if (a.slots >= 0) return std::min(a.slots, t.n_expert) * t.n_layer();
  if (a.model.empty()) {
    if (a.budget.find('%') == std::string::npos) {
      return Error{
          "--ram-budget in bytes needs -m MODEL (the size of one expert); without it, "
          "give a percentage (50%) or --slots"};
    }
    auto n = parse_ram_budget(a.budget);
    if (!n.ok()) return n.error();
    return static_cast<int>(n->resolve(static_cast<uint64_t>(n_all)));
  }
  auto file = GgufFile::open(a.model);
  if (!file.ok()) return file.error();
  auto s = summarize_model(**file);
  if (!s.ok()) return s.error();
  const auto n_layer = static_cast<int64_t>(s->experts_per_layer.size());
  if (n_layer != t.n_layer() || s->expert_count != t.n_expert) {
    return make_error(a.model, " has ", std::to_string(n_layer), " MoE layers of ",
                      std::to_string(s->expert_count), " experts; the trace has ",
                      std::to_string(t.n_layer()), " of ", std::to_string(t.n_expert));
  }
  const uint64_t per_expert = s->expert_bytes / static_cast<uint64_t>(n_layer * s->expert_count);
  auto budget = parse_ram_budget(a.budget);
  if (!budget.ok()) return budget.error();
  const uint64_t bytes = budget->resolve(s->expert_bytes);
  if (bytes < per_expert) {
    return make_error("RAM budget ", a.budget, " (", std::to_string(bytes),
                      " bytes) is smaller than one expert (", std::to_string(per_expert),
                      " bytes)");
  }
  return static_cast<int>(std::min<uint64_t>(bytes / per_expert, n_all));
}

nlohmann::json replay_json(const ReplayResult& r) {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : r.layers) layers.push_back(l.rate());
  nlohmann::json j = {{"policy", r.label},
                      {"hit_rate", r.total.rate()},
                      {"hits", r.total.hits},
                      {"accesses", r.total.accesses},
                      {"layer_hit_rate", layers}};
  if (r.prefetch_issued > 0) {
    j["prefetch_issued"] = r.prefetch_issued;
    j["prefetch_used"] = r.prefetch_used;
  }
  return j;
}

void print_row(const ReplayResult& r) {
  std::printf("%-18s %7.4f  ", r.label.c_str(), r.total.rate());
  for (const auto& l : r.layers) std::printf(" %.2f", l.rate());
  if (r.prefetch_issued > 0) {
    std::printf("   prefetch used %llu/%llu", static_cast<unsigned long long>(r.prefetch_used),
                static_cast<unsigned long long>(r.prefetch_issued));
  }
  std::printf("\n");
}

int run_cache_sim(const CacheSimArgs& a) {
  if (a.trace.empty() == a.synthetic.empty()) {
    return fail("give exactly one of --trace FILE or --synthetic SPEC", 2);
  }
  if ((a.slots >= 0) == !a.budget.empty())
    return fail("give exactly one of --slots or --ram-budget", 2);
  std::vector<PolicyConfig> policies;
  if (a.policy == "all") {
    policies = planner_candidates();
  } else {
    auto k = parse_cache_policy(a.policy);
    if (!k.ok()) return fail(k.message() + " or all", 2);
    if (*k == CachePolicyKind::kAuto) {
      return fail("--policy auto: cache-sim always prints the planner's choice; give a policy or "
                  "all", 2);
    }
    PolicyConfig p;
    p.kind = *k;
    p.pinned_fraction = a.pinned_fraction;
    policies.push_back(p);
  }
  if (a.prefetch_depth > 0) {  // measure where LRU should put a guess: both ends side by side
    PolicyConfig mru;
    mru.speculative = SpeculativeInsert::kMruEnd;
    policies.push_back(mru);
  }
  RoutingTrace full;
  if (!a.trace.empty()) {
    auto t = load_routing_trace(a.trace);
    if (!t.ok()) return fail(t.message());
    full = std::move(t).value();
  } else {
    auto spec = parse_synthetic_spec(a.synthetic);
    if (!spec.ok()) return fail(spec.message(), 2);
    full = make_synthetic_trace(*spec);
  }
  const size_t n_tokens = full.n_tokens();
  const auto n_profile = static_cast<size_t>(std::floor(a.split * static_cast<double>(n_tokens)));
  if (n_profile == 0 || n_profile >= n_tokens) {
    return fail("the trace has " + std::to_string(n_tokens) +
                " tokens: too few to split into a profile part and a replay part");
  }
  const RoutingTrace profile_trace = full.slice(0, n_profile);
  const RoutingTrace replay = full.slice(n_profile, n_tokens);
  const RoutingProfile prior = profile_from_trace(profile_trace);
  auto total = total_slots(a, full);
  if (!total.ok()) return fail(total.message());
  std::vector<int> slots;
  if (a.allocation == "equal") {
    slots = allocate_slots_equal(*total, full.n_layer(), full.n_expert);
  } else if (a.allocation == "adaptive") {
    slots = allocate_slots_adaptive(*total, lru_hit_curves(profile_trace), 1);
  } else {
    return fail("unknown --allocation '" + a.allocation + "' (equal or adaptive)", 2);
  }
  PrefetchSim pf;
  pf.depth = a.prefetch_depth;
  pf.accuracy = a.prefetch_accuracy;
  std::vector<ReplayResult> results;
  for (const auto& p : policies) results.push_back(replay_policy(replay, prior, slots, p, pf));
  const ReplayResult oracle = replay_belady(replay, slots);
  const CachePlan plan = plan_cache_policy(profile_trace, prior, slots);
  const ReplayResult chosen = replay_policy(replay, prior, slots, plan.chosen);
  const ReplayResult chosen_per_layer = replay_per_layer(replay, prior, slots, plan.per_layer);
  nlohmann::json per_layer_labels = nlohmann::json::array();
  for (const auto& p : plan.per_layer) per_layer_labels.push_back(p.label());
  const RoutingProfile whole = profile_from_trace(full);
  const double entropy = mean_routing_entropy_bits(whole);
  std::vector<double> layer_entropy;
  for (const auto& c : whole.counts) layer_entropy.push_back(routing_entropy_bits(c));
  const auto [lo, hi] = std::minmax_element(layer_entropy.begin(), layer_entropy.end());
  const double max_entropy = std::log2(std::max(full.n_expert, 1));
  int used = 0;
  for (const int s : slots) used += s;
  const double fraction = static_cast<double>(used) / (full.n_layer() * full.n_expert);
  if (a.json) {
    nlohmann::json pol = nlohmann::json::array();
    for (const auto& r : results) pol.push_back(replay_json(r));
    nlohmann::json j = {{"trace", a.trace.empty() ? "synthetic:" + a.synthetic : a.trace},
                        {"n_layer", full.n_layer()},
                        {"n_expert", full.n_expert},
                        {"top_k", full.top_k},
                        {"tokens", n_tokens},
                        {"dropped_events", full.dropped},
                        {"profile_tokens", n_profile},
                        {"replay_tokens", n_tokens - n_profile},
                        {"routing_entropy_bits", entropy},
                        {"max_entropy_bits", max_entropy},
                        {"layer_entropy_bits", layer_entropy},
                        {"allocation", a.allocation},
                        {"slots", slots},
                        {"total_slots", used},
                        {"slot_fraction", fraction},
                        {"policies", pol},
                        {"belady", replay_json(oracle)},
                        {"planner",
                         {{"choice", plan.chosen.label()},
                          {"reason", plan.reason},
                          {"replay_hit_rate", chosen.total.rate()},
                          {"per_layer_choice", per_layer_labels},
                          {"per_layer_replay_hit_rate", chosen_per_layer.total.rate()}}}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("trace    %s: %d layers x %d experts, top-%d, %zu tokens%s\n",
              a.trace.empty() ? ("synthetic " + a.synthetic).c_str() : a.trace.c_str(),
              full.n_layer(), full.n_expert, full.top_k, n_tokens,
              full.dropped ? " (the writer dropped events)" : "");
  std::printf("routing  entropy %.3f bits per layer (layers %.3f to %.3f; uniform: %.3f)\n",
              entropy, *lo, *hi, max_entropy);
  std::printf("split    profile: tokens [0, %zu), replay: [%zu, %zu)\n", n_profile, n_profile,
              n_tokens);
  std::printf("slots    %d of %d (%.1f%%), %s:", used, full.n_layer() * full.n_expert,
              100.0 * fraction, a.allocation.c_str());
  for (const int s : slots) std::printf(" %d", s);
  std::printf("\n\n%-18s %7s   per layer\n", "policy", "hit");
  for (const auto& r : results) print_row(r);
  print_row(oracle);
  std::printf("\nplanner  %s (%s); on the replay part: %.4f\n", plan.chosen.label().c_str(),
              plan.reason.c_str(), chosen.total.rate());
  std::printf("         per layer:");
  for (const auto& p : plan.per_layer) std::printf(" %s", p.label().c_str());
  std::printf("; on the replay part: %.4f\n", chosen_per_layer.total.rate());
  return 0;
}

const CommandRegistration kCacheSim{
    75, "cache-sim", "Replay a routing trace through the expert cache policies (hit rates)",
    [](CLI::App& app) -> CommandAction {
      auto a = std::make_shared<CacheSimArgs>();
      app.footer(
          "The first --split of the tokens is the profile (LFU priors, pinned sets, the "
          "planner's replay, adaptive slots); hit rates are measured on the rest. belady: the "
          "optimal hit rate for the same slots. SPEC of --synthetic: key=value,... of layers, "
          "experts, k, tokens, zipf, spread, locality, drift, seed (e.g. "
          "\"layers=32,experts=8,k=2,tokens=4000,zipf=1.2,locality=0.3\").");
      app.add_option("--trace", a->trace, "JSONL event trace (moe-cli run ... --trace FILE)")
          ->check(regular_file());
      app.add_option("--synthetic", a->synthetic, "Replay a synthetic Zipf trace instead");
      app.add_option("--slots", a->slots, "Cache slots per layer")->check(CLI::Range(0, 32768));
      app.add_option("--ram-budget", a->budget,
                     "Budget for experts: 12GiB, 512MiB (needs -m) or 50% of expert bytes");
      app.add_option("-m,--model", a->model, "The model of the trace (bytes per expert)")
          ->check(regular_file());
      app.add_option("--policy", a->policy, "lru, lfu, pinned, hybrid, none or all")
          ->capture_default_str();
      app.add_option("--allocation", a->allocation, "Slots per layer: equal or adaptive")
          ->capture_default_str();
      app.add_option("--pinned-fraction", a->pinned_fraction,
                     "--policy hybrid: fraction of a layer's slots pinned")
          ->check(finite_range(0, 1))
          ->capture_default_str();
      app.add_option("--split", a->split, "Fraction of the tokens used as the profile")
          ->check(finite_range(0, 1, true))
          ->capture_default_str();
      app.add_option("--prefetch-depth", a->prefetch_depth,
                     "Simulated prefetch guesses per token and layer (adds lru[spec@mru])")
          ->check(CLI::Range(0, 64));
      app.add_option("--prefetch-accuracy", a->prefetch_accuracy,
                     "Probability that a simulated guess is right")
          ->check(finite_range(0, 1))
          ->capture_default_str();
      app.add_flag("--json", a->json, "Machine-readable JSON output");
      return [a] { return run_cache_sim(*a); };
    }};

}  // namespace
}  // namespace moe::cli
