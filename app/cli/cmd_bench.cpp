// moe-cli bench: prompt-processing and decode speed of a model on this machine, time to first
// token, peak RSS, and the decode rate as achieved memory bandwidth (active weight bytes per
// token x tokens/s) against a triad measurement of this machine's bandwidth.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "app/cli/engine_options.h"
#include "core/gguf/gguf_file.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/membw.h"

namespace moe::cli {
namespace {

struct BenchOptions {
  EngineOptions engine;
  int prompt_tokens = 128;
  int decode_tokens = 64;
  int repetitions = 1;
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

// A prompt of about n tokens: plain words, so every tokenizer splits it predictably.
std::string synthetic_prompt(int n) {
  static const char* kWords[] = {"patient", "reports", "mild", "fever", "and",  "cough", "for",
                                 "three",   "days",    "with", "no",    "rash", "the",   "chest"};
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += kWords[i % 14];
    s += ' ';
  }
  return s;
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
  // Aim the token count: encode once and trim the word count to the requested length.
  std::string prompt = synthetic_prompt(o.prompt_tokens);
  while (!prompt.empty() &&
         static_cast<int>(e.tokenizer().encode(prompt, true, false).size()) > o.prompt_tokens) {
    prompt.resize(prompt.rfind(' ', prompt.size() - 2) + 1);
  }
  req.raw_prompt = prompt;
  GenerateStats best;
  nlohmann::json prompt_runs = nlohmann::json::array(), decode_runs = nlohmann::json::array();
  for (int r = 0; r < std::max(1, o.repetitions); ++r) {
    auto st = e.generate(req, [](std::string_view) {});
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
      {"model_page_cache_bytes", page_cache},
  };
  j["cache_hit_rate"] = cache ? nlohmann::json(cache->hit_rate()) : nlohmann::json();
  j["prefetch_accuracy"] = cache ? nlohmann::json(cache->prefetch_accuracy()) : nlohmann::json();
  j["disk_bytes_per_token"] = cache && tokens_run > 0
                                  ? nlohmann::json(cache->total.bytes_read / tokens_run)
                                  : nlohmann::json();
  j["ram_budget_bytes"] = cache ? nlohmann::json(cache->budget_bytes) : nlohmann::json();
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
  if (cache) {
    std::printf(
        "expert cache     hit rate %.1f%%, prefetch accuracy %.1f%%, %.1f KiB read/token, "
        "budget %.1f MiB\n",
        100 * cache->hit_rate(), 100 * cache->prefetch_accuracy(),
        tokens_run > 0 ? cache->total.bytes_read / tokens_run / 1024 : 0.0,
        cache->budget_bytes / 1048576.0);
  }
  std::printf("page cache       %.1f MiB of the model file\n", page_cache / 1048576.0);
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
      app.add_flag("--json", o->json, "Print the figures as JSON");
      app.add_flag("--no-membw", o->skip_membw, "Skip the memory-bandwidth measurement");
      return [o] { return bench(*o); };
    }};

}  // namespace
}  // namespace moe::cli
