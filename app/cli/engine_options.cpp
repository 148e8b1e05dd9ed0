#include "app/cli/engine_options.h"

#include "app/cli/device_options.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <vector>

#include "core/store/cache_policy.h"
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
                                                {"ram-copy", StoreKind::kRamCopy},
                                                {"tiered", StoreKind::kTiered}};
  CLI::Option* store_opt =
      app.add_option("--expert-store", d.store,
                     "Where expert weights are served from: mapped (the file mapping), ram-copy "
                     "(a copy in RAM) or tiered (a RAM cache under --ram-budget, the rest read "
                     "from the file with O_DIRECT); --ram-budget alone selects tiered")
          ->transform(CLI::CheckedTransformer(stores, CLI::ignore_case).description(""))
          ->type_name("mapped|ram-copy|tiered")
          ->default_str("mapped");
  app.add_option_function<std::string>(
         "--ram-budget",
         [&d, store_opt](const std::string& text) {
           auto b = parse_ram_budget(text);
           if (!b.ok()) throw CLI::ValidationError("--ram-budget", b.message());
           // --expert-store (defined first) has been applied when this runs.
           if (store_opt->count() > 0 && d.store != StoreKind::kTiered) {
             throw CLI::ValidationError("--ram-budget",
                                        "a RAM budget needs the tiered expert store, not '" +
                                            std::string(store_kind_name(d.store)) + "'");
           }
           d.ram_budget = *b;
           d.store = StoreKind::kTiered;
         },
         "RAM for experts (tiered store): a size (12GiB, 512MiB, 1.5G, bytes) or a share of "
         "the expert bytes (50%); at least one expert slot per layer. Implies --expert-store "
         "tiered")
      ->type_name("SIZE|PCT");
  app.add_option_function<std::string>(
         "--policy",
         [&d](const std::string& text) {
           auto p = parse_cache_policy(text);
           if (!p.ok()) throw CLI::ValidationError("--policy", p.message());
           d.cache_policy = *p;
         },
         "Tiered store: which experts stay in RAM, per layer: auto (default: the planner's "
         "choice per layer by hit rate replaying the routing profile's trace; lru without a "
         "profile), lru, lfu, pinned, hybrid, or none (no cache: every use read from disk). "
         "pinned and hybrid pin the hottest experts of the model's routing profile, lfu starts "
         "from its counts; the backend line and bench --json (cache_policy, "
         "cache_policy_reason) say what runs and why")
      ->type_name("POLICY");
  app.add_option("--profile", d.profile_path,
                 "Tiered store: routing profile for auto/pinned/hybrid/lfu (default: the model's "
                 "saved one, written by moe-cli profile, if any; the backend line names it). "
                 "A profile of another model is an error")
      ->check(CLI::ExistingFile.description(""))
      ->type_name("FILE");
  app.add_option_function<std::string>(
         "--allocation",
         [&d](const std::string& text) {
           if (text != "equal" && text != "adaptive") {
             throw CLI::ValidationError("--allocation", "'" + text + "': give equal or adaptive");
           }
           d.adaptive_slots = text == "adaptive";
         },
         "Tiered store: slots per layer, equal (default) or adaptive: the budget's slots go to "
         "the layers the routing profile says gain most (needs a profile, see --profile)")
      ->type_name("equal|adaptive");
  app.add_flag_callback(
      "--no-prefetch", [&d] { d.prefetch = false; },
      "Tiered store: do not prefetch the next layer's predicted experts");
  app.add_option("--prefetch-depth", d.prefetch_depth,
                 "Tiered store: most non-resident experts of the next layer prefetched per "
                 "layer (of its predicted top-k; 0: none); the store goes shallower, down to "
                 "none, while fewer than 3 in 4 guesses are used")
      ->check(CLI::Range(0, kMaxExpertsUsed))
      ->capture_default_str();
  app.add_option("--io-threads", d.io_threads,
                 "Tiered store: threads reading experts from disk (pread, O_DIRECT)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--experts-per-token", d.selection.experts_per_token,
                 "Experts used per token (0: the model's own)")
      ->check(CLI::Range(0, kMaxExpertsUsed));
  app.add_option_function<float>(
         "--tier-theta",
         [&d](float theta) {
           d.selection.selector = SelectorKind::kWlr;
           d.selection.latency = LatencyKind::kTier;
           d.selection.theta = theta;
         },
         "Tier-aware WDMoE selection (needs --ram-budget): at THETA > 0 a low-weight expert "
         "that needs a disk read may be left out; 0 = exact top-k")
      ->check(CLI::Range(0.0, 1.0));
  add_backend_options(app, d);
  add_device_options(app, d);
}

void add_backend_options(CLI::App& app, Deployment& d) {
  const std::map<std::string, ComputeBackend> backends{{"cpu", ComputeBackend::kCpu},
                                                       {"cuda", ComputeBackend::kCuda},
                                                       {"auto", ComputeBackend::kAuto}};
  app.add_option("--backend", d.backend,
                 "Who computes the experts: cpu, cuda (a CUDA GPU; an error without one) or "
                 "auto (cuda when a device is present, else cpu; the backend line says which)")
      ->transform(CLI::CheckedTransformer(backends, CLI::ignore_case).description(""))
      ->type_name("cpu|cuda|auto")
      ->default_str("cpu");
  app.add_option("--cuda-device", d.cuda_device, "CUDA device index (--backend cuda/auto)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--vram-budget",
         [&d](const std::string& text) {
           auto b = parse_ram_budget(text);
           if (!b.ok()) throw CLI::ValidationError("--vram-budget", b.message());
           d.vram_budget = *b;
         },
         "VRAM for the experts on the GPU (--backend cuda/auto): a size (20GiB) or a share of "
         "the expert bytes (25%); the rest are uploaded on demand. Default: all experts, "
         "capped at 90 % of the free VRAM")
      ->type_name("SIZE|PCT");
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
    le.trace->set_end_fields([eng = le.engine.get()] { return eng->trace_end_fields(); });
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

uint64_t file_page_cache_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct stat st {};
  uint64_t resident = 0;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    const size_t len = static_cast<size_t>(st.st_size);
    void* p = mmap(nullptr, len, PROT_READ, MAP_SHARED, fd, 0);
    if (p != MAP_FAILED) {
      const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
      std::vector<unsigned char> vec((len + page - 1) / page);
      if (mincore(p, len, vec.data()) == 0) {
        for (unsigned char v : vec) resident += (v & 1) ? page : 0;
      }
      munmap(p, len);
    }
  }
  ::close(fd);
  return std::min<uint64_t>(resident, static_cast<uint64_t>(st.st_size));
}

}  // namespace moe::cli
