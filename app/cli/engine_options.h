#pragma once
// Options shared by the moe-cli commands that run a model (run, chat, bench, perplexity).
#include <memory>
#include <string>

#include "app/cli/command.h"
#include "core/engine/engine.h"
#include "core/engine_api/trace_writer.h"

namespace moe::cli {

struct EngineOptions {
  EngineConfig config;
  SamplerConfig sampler;
  int experts_per_token = 0;  ///< 0: the model's own
  bool greedy = false;
};

/// -m/--model, -t/--threads, -c/--ctx-size, --trace, --kv-f16, --experts-per-token.
void add_engine_options(CLI::App& app, EngineOptions& o);
/// --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n, --seed, --greedy.
void add_sampler_options(CLI::App& app, EngineOptions& o);

/// A loaded engine plus the trace writer (if --trace), torn down in the right order.
struct LoadedEngine {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<TraceWriter> trace;  // declared after engine: destroyed first
};

/// Loads the model, prints a one-line summary to stderr, applies --experts-per-token and
/// starts the trace. Errors are printed; returns nullptr engine on failure.
LoadedEngine load_engine(const EngineOptions& o, bool quiet = false);

/// The sampler settings after --greedy.
SamplerConfig effective_sampler(const EngineOptions& o);

/// Peak resident set size of this process in bytes (getrusage).
uint64_t peak_rss_bytes();

}  // namespace moe::cli
