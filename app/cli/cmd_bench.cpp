// moe-cli bench: prompt-processing and decode speed of a model on this machine, time to first
// token, peak RSS, and the decode rate as achieved memory bandwidth (active weight bytes per
// token x tokens/s) against a triad measurement of this machine's bandwidth. As llama-bench
// does, the prompt and the decoded tokens are random token ids (fixed seed), not the model's
// own greedy output, on which a random-weight model collapses onto one expert pair per layer;
// the routing entropy of the decoded tokens is reported with every figure.
#include <algorithm>
#include <cmath>
#include <map>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "app/cli/engine_options.h"
#include "core/engine_api/routing_stats.h"
#include "core/gguf/gguf_file.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/percentile.h"
#include "core/util/membw.h"

namespace moe::cli {
namespace {

struct BenchOptions {
  EngineOptions engine;
  int prompt_tokens = 128;
  int decode_tokens = 64;
  int repetitions = 1;
  uint32_t seed = 1;
  bool json = false;
  bool skip_membw = false;
};

// Bytes streamed per decoded token: every non-expert weight except the embedding table (one
// row of it is read) plus k of n_expert experts' weights in every layer.
double active_bytes_per_token(const ModelSummary& s, const std::string& path, int k) {
  double embd = 0;
  if (auto f = GgufFile::open(path); f.ok()) {
    if (const TensorInfo* t = f.value()->find_tensor("token_embd.weight")) {
      embd = static_cast<double>(t->n_bytes) * (1.0 - 1.0 / std::max<int64_t>(t->ne(1), 1));
    }
  }
  const double experts =
      s.n_expert > 0 ? static_cast<double>(s.expert_bytes) * k / s.n_expert : 0.0;
  return static_cast<double>(s.non_expert_bytes) - embd + experts;
}

// n random token ids in [0, n_vocab), as llama-bench draws them; BOS first when the
// vocabulary adds one (the prompt case).
std::vector<int32_t> random_ids(const Tokenizer& tok, int n, bool bos, std::mt19937& rng) {
  std::uniform_int_distribution<int32_t> dist(0, std::max(0, tok.n_vocab() - 1));
  std::vector<int32_t> ids;
  ids.reserve(static_cast<size_t>(n));
  if (bos && tok.data().add_bos && tok.bos() >= 0 && n > 0) ids.push_back(tok.bos());
  while (static_cast<int>(ids.size()) < n) ids.push_back(dist(rng));
  return ids;
}

// What the decoded tokens' events say: their routing (positions past the prompt) and, per
// decode step, the expert-load wait the latency model predicted before the loads and the wait
// measured (TimingEvent, design §3.1).
// Per LAN device (--devices): its RPCs of the decode steps, and its losses over the whole run.
struct DeviceFigures {
  std::string address, identity;
  std::vector<double> rtt_s, compute_s;
  uint64_t assignments = 0, bytes = 0;
  int left = 0, timeouts = 0;
};

struct DecodeEvents {
  RoutingStats routing;
  double predicted_load_s = 0, measured_load_s = 0;
  int steps = 0;
  std::map<uint32_t, DeviceFigures> devices;
  // A step's RPCs come before its TimingEvent, which says whether the step was a decode step.
  std::vector<DeviceEvent> step_rpcs;
};

DeviceFigures& device_figures(DecodeEvents& d, const DeviceEvent& e) {
  DeviceFigures& f = d.devices[e.device];
  if (f.address.empty()) f.address = e.address.data();
  if (f.identity.empty()) f.identity = e.identity.data();
  return f;
}

void collect_decode_events(EventQueue& q, int prompt_tokens, DecodeEvents& d) {
  std::vector<Event> events;
  q.drain(events);
  for (const Event& ev : events) {
    if (const auto* r = std::get_if<RoutingEvent>(&ev); r && r->pos >= prompt_tokens) {
      d.routing.add(*r);
    } else if (const auto* dev = std::get_if<DeviceEvent>(&ev)) {
      if (dev->kind == DeviceEvent::Kind::kRpc) {
        d.step_rpcs.push_back(*dev);
      } else if (dev->kind == DeviceEvent::Kind::kLeft) {
        ++device_figures(d, *dev).left;
      } else if (dev->kind == DeviceEvent::Kind::kTimeout) {
        ++device_figures(d, *dev).timeouts;
      }
    } else if (const auto* t = std::get_if<TimingEvent>(&ev)) {
      if (t->phase == StepPhase::kDecode) {
        d.predicted_load_s += t->predicted_load_s;
        d.measured_load_s += t->measured_load_s;
        ++d.steps;
        for (const DeviceEvent& rpc : d.step_rpcs) {
          DeviceFigures& f = device_figures(d, rpc);
          f.rtt_s.push_back(rpc.rtt_s);
          f.compute_s.push_back(rpc.compute_s);
          f.assignments += rpc.assignments;
          f.bytes += rpc.bytes;
        }
      }
      d.step_rpcs.clear();
    }
  }
}

int bench(const BenchOptions& o) {
  LoadedEngine le = load_engine(o.engine, o.json);
  if (!le.engine) return 1;
  Engine& e = *le.engine;
  const ModelSummary& s = e.summary();
  GenerateRequest req;
  req.max_new_tokens = o.decode_tokens;
  req.ignore_eos = true;
  req.reuse_cache = false;  // time the whole prompt every repetition
  req.sampler.temperature = 0;
  req.sampler.repeat_penalty = 1;
  std::mt19937 rng(o.seed);
  req.prompt_ids = random_ids(e.tokenizer(), o.prompt_tokens, /*bos=*/true, rng);
  req.forced_ids = random_ids(e.tokenizer(), o.decode_tokens, /*bos=*/false, rng);
  // Same ids every repetition, so the routing of the first one stands for all. The ring is
  // drained at every piece of text (about every token): a small ring, so the peak RSS measured
  // stays the engine's; prefill events that overflow it are not needed.
  DecodeEvents decode;
  const RoutingStats& routing = decode.routing;
  std::shared_ptr<EventQueue> q =
      e.events().subscribe(static_cast<size_t>(std::max(1, s.n_layer) + 2) * 64);
  GenerateStats best;
  nlohmann::json prompt_runs = nlohmann::json::array(), decode_runs = nlohmann::json::array();
  for (int r = 0; r < std::max(1, o.repetitions); ++r) {
    auto st = e.generate(req, [&](std::string_view) {
      if (q) collect_decode_events(*q, o.prompt_tokens, decode);
    });
    if (q) {
      collect_decode_events(*q, o.prompt_tokens, decode);
      e.events().unsubscribe(q);
      q.reset();
    }
    if (!st.ok()) {
      std::fprintf(stderr, "error: %s\n", st.message().c_str());
      return 1;
    }
    prompt_runs.push_back(st->prompt_tok_per_s());
    decode_runs.push_back(st->decode_tok_per_s());
    if (r == 0 || st->decode_tok_per_s() > best.decode_tok_per_s()) best = st.value();
  }
  const int k = e.experts_per_token();
  const double active = active_bytes_per_token(s, o.engine.deployment.model_path, k);
  const double achieved = active * best.decode_tok_per_s() / 1e9;
  const int threads = o.engine.deployment.n_threads;
  // Before the triad, whose 3 x 256 MiB arrays would otherwise be the peak.
  const uint64_t peak_rss = peak_rss_bytes();
  const MemBandwidth bw = o.skip_membw ? MemBandwidth{} : measure_memory_bandwidth(threads);
  // Tiered store figures (null for the other stores): per token processed, prompt and decode.
  const auto cache = e.store_stats();
  const uint64_t page_cache = file_page_cache_bytes(o.engine.deployment.model_path);
  const double tokens_run =
      static_cast<double>(best.prompt_tokens + best.generated_tokens) * std::max(1, o.repetitions);
  nlohmann::json j = {
      {"model", o.engine.deployment.model_path},
      {"name", s.name},
      {"file_type", s.file_type},
      {"file_bytes", s.file_bytes},
      {"threads", threads},
      {"experts_per_token", k},
      {"backend", s.backend},
      {"kv_type", s.kv_type},
      {"prompt_tokens", best.prompt_tokens},
      {"prompt_tok_per_s", best.prompt_tok_per_s()},
      {"decode_tokens", best.generated_tokens},
      {"decode_tok_per_s", best.decode_tok_per_s()},
      {"prompt_tok_per_s_runs", prompt_runs},  // every repetition, in order
      {"decode_tok_per_s_runs", decode_runs},
      {"time_to_first_token_ms", best.time_to_first_token_s * 1e3},
      {"peak_rss_bytes", peak_rss},
      {"active_bytes_per_token", active},
      {"decode_achieved_gb_per_s", achieved},
      {"membw_triad_gb_per_s", bw.gb_per_s},
      {"decode_fraction_of_membw", bw.gb_per_s > 0 ? achieved / bw.gb_per_s : 0.0},
      {"decode_input", "random token ids"},
      {"seed", o.seed},
      {"routing_entropy_bits", routing.mean_entropy_bits()},
      {"routing_entropy_max_bits", s.n_expert > 0 ? std::log2(double(s.n_expert)) : 0.0},
      {"distinct_experts_per_layer", routing.mean_distinct_experts()},
      {"model_page_cache_bytes", page_cache},
  };
  j["cache_hit_rate"] = cache ? nlohmann::json(cache->hit_rate()) : nlohmann::json();
  // What the store ran (with auto, the planner's choice) and why.
  j["cache_policy"] = cache ? nlohmann::json(cache->policy) : nlohmann::json();
  j["cache_policy_reason"] = cache ? nlohmann::json(cache->policy_reason) : nlohmann::json();
  // Belady's hit rate on the same accesses at the same slots: how far the policy is from the
  // best any policy could do on this run.
  const auto oracle = e.store_oracle_hit_rate();
  j["oracle_hit_rate"] = oracle ? nlohmann::json(*oracle) : nlohmann::json();
  j["prefetch_accuracy"] = cache ? nlohmann::json(cache->prefetch_accuracy()) : nlohmann::json();
  // The depth the accuracy left prefetch at (it starts at --prefetch-depth).
  j["prefetch_depth_end"] = cache ? nlohmann::json(cache->prefetch_depth) : nlohmann::json();
  j["disk_bytes_per_token"] = cache && tokens_run > 0
                                  ? nlohmann::json(cache->total.bytes_read / tokens_run)
                                  : nlohmann::json();
  j["ram_budget_bytes"] = cache ? nlohmann::json(cache->budget_bytes) : nlohmann::json();
  // Expert-load wait per decoded token (first repetition): predicted before the loads from the
  // routing and residency, and measured; null without a store that loads experts.
  const double pred_ms = decode.steps ? 1e3 * decode.predicted_load_s / decode.steps : 0;
  const double meas_ms = decode.steps ? 1e3 * decode.measured_load_s / decode.steps : 0;
  j["predicted_load_ms_per_token"] = cache ? nlohmann::json(pred_ms) : nlohmann::json();
  j["measured_load_ms_per_token"] = cache ? nlohmann::json(meas_ms) : nlohmann::json();
  j["load_prediction_ratio"] =
      cache && meas_ms > 0 ? nlohmann::json(pred_ms / meas_ms) : nlohmann::json();
  j["load_latency_model"] = s.latency_model;
  // LAN devices: per decode RPC, the round trip and the compute time the device reported (the
  // rest is network and hand-over); losses over the whole run. Empty without --devices.
  nlohmann::json devices = nlohmann::json::array();
  for (const auto& [id, f] : decode.devices) {
    std::vector<double> network(f.rtt_s.size());
    for (size_t i = 0; i < network.size(); ++i) network[i] = f.rtt_s[i] - f.compute_s[i];
    const double n = static_cast<double>(std::max<size_t>(f.rtt_s.size(), 1));
    devices.push_back({{"device", id},
                       {"address", f.address},
                       {"identity", f.identity},
                       {"decode_rpcs", f.rtt_s.size()},
                       {"rtt_ms_median", 1e3 * percentile(f.rtt_s, 0.5)},
                       {"rtt_ms_p90", 1e3 * percentile(f.rtt_s, 0.9)},
                       {"compute_ms_median", 1e3 * percentile(f.compute_s, 0.5)},
                       {"network_ms_median", 1e3 * percentile(network, 0.5)},
                       {"assignments_per_rpc", static_cast<double>(f.assignments) / n},
                       {"bytes_per_rpc", static_cast<double>(f.bytes) / n},
                       {"failures", f.left + f.timeouts},
                       {"timeouts", f.timeouts}});
  }
  j["devices"] = devices;
  if (o.json) {
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("model            %s (%s)\n", s.name.c_str(), s.file_type.c_str());
  std::printf("prompt           %d tokens  %.1f tok/s\n", best.prompt_tokens,
              best.prompt_tok_per_s());
  std::printf("decode           %d tokens  %.2f tok/s\n", best.generated_tokens,
              best.decode_tok_per_s());
  std::printf("first token      %.1f ms\n", best.time_to_first_token_s * 1e3);
  std::printf("peak RSS         %.1f MiB\n", peak_rss / 1048576.0);
  std::printf("active weights   %.1f MiB/token -> %.2f GB/s", active / 1048576.0, achieved);
  if (bw.gb_per_s > 0) {
    std::printf(" = %.0f%% of the %.1f GB/s triad bandwidth (%d threads)",
                100 * achieved / bw.gb_per_s, bw.gb_per_s, bw.n_threads);
  }
  std::printf("\n");
  std::printf("routing          %.2f of %.2f bits entropy, %.1f of %d experts per layer "
              "(decoded random ids)\n",
              routing.mean_entropy_bits(), s.n_expert > 0 ? std::log2(double(s.n_expert)) : 0.0,
              routing.mean_distinct_experts(), s.n_expert);
  if (cache) {
    std::printf(
        "expert cache     hit rate %.1f%%, prefetch accuracy %.1f%%, %.1f KiB read/token, "
        "budget %.1f MiB\n",
        100 * cache->hit_rate(), 100 * cache->prefetch_accuracy(),
        tokens_run > 0 ? cache->total.bytes_read / tokens_run / 1024 : 0.0,
        cache->budget_bytes / 1048576.0);
    std::printf("cache policy     %s (%s)\n", cache->policy.c_str(), cache->policy_reason.c_str());
    std::printf("expert loads     %.2f ms/token predicted, %.2f ms/token measured", pred_ms,
                meas_ms);
    if (meas_ms > 0) std::printf(" (ratio %.2f)", pred_ms / meas_ms);
    std::printf("; %s\n", s.latency_model.c_str());
  }
  std::printf("page cache       %.1f MiB of the model file\n", page_cache / 1048576.0);
  for (const auto& d : devices) {
    std::printf("device %-9s %s: %d decode RPCs, round trip %.3f ms (p90 %.3f), compute %.3f ms, "
                "%d failures\n",
                d["identity"].get<std::string>().c_str(), d["address"].get<std::string>().c_str(),
                d["decode_rpcs"].get<int>(), d["rtt_ms_median"].get<double>(),
                d["rtt_ms_p90"].get<double>(), d["compute_ms_median"].get<double>(),
                d["failures"].get<int>());
  }
  return 0;
}

const CommandRegistration kBench{
    50, "bench", "Measure prompt and decode speed, first-token time, peak RSS, bandwidth",
    [](CLI::App& app) {
      auto o = std::make_shared<BenchOptions>();
      add_engine_options(app, o->engine);
      app.add_option("-p,--prompt-tokens", o->prompt_tokens, "Prompt length in tokens")
          ->check(CLI::Range(1, 1 << 16))
          ->capture_default_str();
      app.add_option("-n,--decode-tokens", o->decode_tokens, "Tokens to decode")
          ->check(CLI::Range(1, 1 << 16))
          ->capture_default_str();
      app.add_option("-r,--repetitions", o->repetitions, "Runs; the fastest is reported")
          ->check(CLI::Range(1, 100))
          ->capture_default_str();
      app.add_option("--seed", o->seed, "Seed of the random prompt and decoded token ids")
          ->capture_default_str();
      app.add_flag("--json", o->json, "Print the figures as JSON");
      app.add_flag("--no-membw", o->skip_membw, "Skip the memory-bandwidth measurement");
      return [o] { return bench(*o); };
    }};

}  // namespace
}  // namespace moe::cli
