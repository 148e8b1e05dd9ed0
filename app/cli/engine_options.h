#pragma once
// Options shared by the moe-cli commands that run a model (run, chat, bench, perplexity,
// wdmoe-sim): one validated set that fills a Deployment for the assembly place (core/deploy).
#include <memory>
#include <string>

#include "app/cli/command.h"
#include "app/cli/validators.h"
#include "core/engine_api/trace_writer.h"
#include "core/frontend/engine.h"

namespace moe::cli {

struct EngineOptions {
  Deployment deployment;
  SamplerConfig sampler;
  bool greedy = false;
};

/// -m/--model, -t/--threads, --kv-f16, --expert-store, --ram-budget, --policy, --no-prefetch,
/// --prefetch-depth, --experts-per-token; with `ctx`,
/// -c/--ctx-size too (commands with their own meaning of the context leave it out). Every range
/// is also checked by validate(const Deployment&), which the assembly place applies.
void add_deployment_options(CLI::App& app, Deployment& d, bool ctx = true);
/// --backend cpu|cuda|auto, --cuda-device, --vram-budget (part of add_deployment_options).
void add_backend_options(CLI::App& app, Deployment& d);
/// The deployment options plus --trace.
void add_engine_options(CLI::App& app, EngineOptions& o);
/// --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n, --seed, --greedy;
/// their ranges are validate(const SamplerConfig&)'s (core/sampling), which Engine::generate
/// applies to every request.
void add_sampler_options(CLI::App& app, EngineOptions& o);

/// A loaded engine plus the trace writer (if --trace), torn down in the right order.
struct LoadedEngine {
  std::unique_ptr<Engine> engine;
  std::unique_ptr<TraceWriter> trace;  // declared after engine: destroyed first
};

/// Loads the model through the assembly place, prints a model line and a backend line to
/// stderr (unless quiet) and starts the trace. Errors are printed; nullptr engine on failure.
LoadedEngine load_engine(const EngineOptions& o, bool quiet = false);

/// The sampler settings after --greedy.
SamplerConfig effective_sampler(const EngineOptions& o);

/// Peak resident set size of this process in bytes (getrusage).
uint64_t peak_rss_bytes();
/// Bytes of `path` in the page cache now (mincore over a fresh read-only mapping); 0 on error.
uint64_t file_page_cache_bytes(const std::string& path);

}  // namespace moe::cli
