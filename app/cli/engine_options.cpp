#include "app/cli/engine_options.h"

#include <sys/resource.h>

#include <cstdio>
#include <map>

#include "core/util/limits.h"

namespace moe::cli {

void add_deployment_options(CLI::App& app, Deployment& d, bool ctx) {
  app.add_option("-m,--model", d.model_path, "GGUF model file")->required()->check(regular_file());
  app.add_option("-t,--threads", d.n_threads, "Threads (0: all hardware threads)")
      ->check(CLI::Range(0, kMaxThreads));
  if (ctx) {
    app.add_option("-c,--ctx-size", d.n_ctx, "Context length (KV cache size)")
        ->check(CLI::Range(16, 1 << 20))
        ->capture_default_str();
  }
  app.add_flag_callback(
      "--kv-f16", [&d] { d.kv_type = KvType::kF16; }, "Keep the KV cache in F16 (half the memory)");
  const std::map<std::string, StoreKind> stores{{"mapped", StoreKind::kMapped},
                                                {"ram-copy", StoreKind::kRamCopy}};
  app.add_option("--expert-store", d.store,
                 "Where expert weights are served from: mapped (the file mapping) or ram-copy "
                 "(a copy in RAM)")
      ->transform(CLI::CheckedTransformer(stores, CLI::ignore_case))
      ->default_str("mapped");
  app.add_option("--experts-per-token", d.selection.experts_per_token,
                 "Experts used per token (0: the model's own)")
      ->check(CLI::Range(0, kMaxExpertsUsed));
}

void add_engine_options(CLI::App& app, EngineOptions& o) {
  add_deployment_options(app, o.deployment);
  app.add_option("--trace", o.deployment.trace_path, "Write every engine event as JSONL to FILE");
}

void add_sampler_options(CLI::App& app, EngineOptions& o) {
  constexpr double kBig = 1e6;  // beyond any useful temperature or penalty
  app.add_option("--temp", o.sampler.temperature, "Temperature (0: greedy)")
      ->check(finite_range(0, kBig))
      ->capture_default_str();
  app.add_option("--top-k", o.sampler.top_k, "Top-k sampling (0: off)")
      ->check(CLI::Range(0, 1 << 30))
      ->capture_default_str();
  app.add_option("--top-p", o.sampler.top_p, "Top-p (nucleus) sampling (1: off)")
      ->check(finite_range(0, 1))
      ->capture_default_str();
  app.add_option("--min-p", o.sampler.min_p, "Min-p sampling (0: off)")
      ->check(finite_range(0, 1))
      ->capture_default_str();
  app.add_option("--repeat-penalty", o.sampler.repeat_penalty, "Repetition penalty (1: off)")
      ->check(finite_range(0, kBig, /*lo_open=*/true))
      ->capture_default_str();
  app.add_option("--repeat-last-n", o.sampler.repeat_last_n,
                 "Tokens the repetition penalty looks back over")
      ->check(CLI::Range(0, 1 << 30))
      ->capture_default_str();
  app.add_option("--seed", o.sampler.seed, "Sampling seed (same seed, same answer)")
      ->capture_default_str();
  app.add_flag("--greedy", o.greedy, "Always take the most likely token");
}

SamplerConfig effective_sampler(const EngineOptions& o) {
  SamplerConfig s = o.sampler;
  if (o.greedy) s.temperature = 0;
  return s;
}

LoadedEngine load_engine(const EngineOptions& o, bool quiet) {
  LoadedEngine le;
  Deployment d = o.deployment;
  const std::string trace_path = d.trace_path;
  d.trace_path.clear();  // the CLI owns the trace writer so it can report its errors
  auto loaded = Engine::load(d);
  if (!loaded.ok()) {
    std::fprintf(stderr, "error: %s\n", loaded.message().c_str());
    return le;
  }
  le.engine = std::move(loaded).value();
  if (!trace_path.empty()) {
    auto tw = TraceWriter::start(trace_path, le.engine->events());
    if (!tw.ok()) {
      std::fprintf(stderr, "error: %s\n", tw.message().c_str());
      le.engine.reset();
      return le;
    }
    le.trace = std::move(tw).value();
  }
  if (!quiet) {
    const ModelSummary& s = le.engine->summary();
    std::fprintf(stderr,
                 "model: %s (%s, %s) | %d layers, %d experts, %d per token | vocab %d | ctx %d%s\n",
                 s.name.c_str(), s.architecture.c_str(), s.file_type.c_str(), s.n_layer, s.n_expert,
                 le.engine->experts_per_token(), s.n_vocab, s.n_ctx,
                 s.random_weights ? " | RANDOM WEIGHTS (test model)" : "");
    std::fprintf(stderr, "backend: %s\n", s.backend.c_str());
  }
  return le;
}

uint64_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux: kilobytes
}

}  // namespace moe::cli
