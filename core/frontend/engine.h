#pragma once
// The engine front end (design §6): load a model (progress, cancel), generate from a chat with
// streamed text, stop, change settings live. One controller thread calls it (the UI's worker
// thread, or moe-cli's main); update_settings() (and the set_* shorthands) and request_stop()
// may be called from any thread and take effect at the next token step. Errors are values with
// a message. The backend behind it is built by the one assembly place (core/deploy) from a
// Deployment.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/deploy/deployment.h"
#include "core/engine_api/events.h"
#include "core/engine_api/live_settings.h"
#include "core/engine_api/expert_selection.h"
#include "core/sampling/sampler.h"
#include "core/store/tiered_store_stats.h"
#include "core/tokenizer/chat_template.h"
#include "core/util/status.h"

namespace moe {

class Tokenizer;

/// What the UI and the CLI show about a loaded model.
struct ModelSummary {
  std::string name, architecture, file_type;
  int n_layer = 0, n_embd = 0, n_head = 0, n_head_kv = 0, n_ff = 0, n_expert_ff = 0;
  int n_expert = 0, n_expert_used = 0, n_vocab = 0, n_ctx_train = 0, n_ctx = 0;
  std::string tokenizer_model, chat_template;
  uint64_t file_bytes = 0, expert_bytes = 0, non_expert_bytes = 0, kv_cache_bytes = 0;
  uint64_t compute_bytes = 0;  ///< work buffers (memory plan)
  std::string kv_type;         ///< "F32" / "F16"
  std::string backend;         ///< the assembled parts: "store mapped, executor local CPU, ..."
  /// Where the expert-load latency model's speeds come from: "calibrated (cache …)", "not
  /// calibrated (…)"; empty when nothing is offloaded.
  std::string latency_model;
  bool random_weights = false;  ///< written by `moe-cli make-model` (metadata moe.random_weights)
};

struct GenerateRequest {
  std::vector<ChatMessage> messages;  ///< system?, user, assistant, ..., user
  /// Non-empty: use this text as the whole prompt (BOS added, special tokens parsed) instead
  /// of rendering `messages` with the chat template (moe-cli run --raw, benchmarks).
  std::string raw_prompt;
  int max_new_tokens = 512;
  bool ignore_eos = false;  ///< keep going past end-of-generation tokens (benchmarks)
  /// Reuse the KV cache of the previous turn for the prompt prefix they share (a follow-up
  /// question only evaluates the new tokens). Benchmarks turn it off to time the full prompt.
  bool reuse_cache = true;
  SamplerConfig sampler;
  /// Benchmarks, as llama-bench does: non-empty = the prompt as token ids, used as they are
  /// (no template, no BOS added); every id must be in [0, n_vocab).
  std::vector<int32_t> prompt_ids;
  /// Benchmarks: non-empty = decoded token i is forced_ids[i % size] instead of the sampled one
  /// (the sampler still runs, so a step does the work of a real answer's). Random ids keep a
  /// random-weight model from collapsing onto one expert pair per layer.
  std::vector<int32_t> forced_ids;
};

struct GenerateStats {
  int prompt_tokens = 0, generated_tokens = 0;
  int reused_prompt_tokens = 0;  ///< prompt prefix taken from the previous turn's KV cache
  double prompt_s = 0, decode_s = 0, time_to_first_token_s = 0;
  /// Prompt tokens evaluated (not reused) per second.
  double prompt_tok_per_s() const {
    return prompt_s > 0 ? (prompt_tokens - reused_prompt_tokens) / prompt_s : 0;
  }
  double decode_tok_per_s() const { return decode_s > 0 ? generated_tokens / decode_s : 0; }
  std::string stop_reason;  ///< "eos", "max_tokens", "stopped", "context_full"
  std::string computed_on;  ///< "local CPU", or the devices that ran experts
  /// Oldest turns left out so that the conversation and room for an answer fit the context.
  int dropped_messages = 0;
};

/// Called with each complete UTF-8 piece of the answer as it is produced.
using TextCallback = std::function<void(std::string_view text)>;
/// Load progress in [0, 1]; return false to cancel the load.
using ProgressCallback = std::function<bool(float fraction)>;

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> load(const Deployment& deployment,
                                              const ProgressCallback& progress = {});
  virtual ~Engine() = default;

  virtual const ModelSummary& summary() const = 0;
  virtual const Tokenizer& tokenizer() const = 0;

  /// Runs one chat turn to completion (or until stopped). The KV cache of the previous turn is
  /// reused for the prompt prefix both share, when the routing settings (k, θ, selector) are
  /// the ones that computed it; otherwise the prompt is evaluated from an empty cache.
  /// A conversation too long for the context loses its oldest turns (the system prompt and the
  /// last message stay) until it fits with room for min(max_new_tokens, n_ctx / 2) answer
  /// tokens; a last message that alone does not fit is an error.
  virtual Result<GenerateStats> generate(const GenerateRequest& request,
                                         const TextCallback& on_text) = 0;
  /// Stops the generation in progress at the next token step (any thread).
  virtual void request_stop() = 0;

  // Live settings (any thread): `edit` changes a copy of the current snapshot, which replaces
  // it as a whole; the next token step uses the new one. θ is clamped to [0, 1] (a NaN θ keeps
  // the previous one), experts per token to [0, kMaxExpertsUsed].
  virtual void update_settings(const std::function<void(LiveSettings&)>& edit) = 0;
  virtual LiveSettings settings() const = 0;
  // Shorthands for one field each.
  void set_experts_per_token(int k) {  ///< clamped to [1, n_expert] when applied
    update_settings([k](LiveSettings& s) { s.experts_per_token = k; });
  }
  void set_theta(float theta) {  ///< WDMoE θ, used by the WLR selector
    update_settings([theta](LiveSettings& s) { s.theta = theta; });
  }
  void set_selector(std::shared_ptr<ExpertSelector> selector) {  ///< null: the deployment's
    update_settings([&selector](LiveSettings& s) { s.selector = std::move(selector); });
  }
  /// k in use (after clamping; the model's when not set).
  virtual int experts_per_token() const = 0;
  float theta() const { return settings().theta; }

  /// Changes the tiered store's RAM budget now (any thread, also while generating; see
  /// TieredExpertStore::set_ram_budget). Error: another store, or below the minimum.
  virtual Status set_ram_budget(uint64_t bytes) = 0;
  /// The tiered store's statistics; empty for the other stores.
  virtual std::optional<TieredStoreStats> store_stats() const = 0;
  /// Belady's (oracle) hit rate of the tiered store's accesses so far at its current slots
  /// (TieredExpertStore::oracle_hits); empty for the other stores. A replay: end of a run.
  virtual std::optional<double> store_oracle_hit_rate() const = 0;
  /// `,"cache_hit_rate":…,"oracle_hit_rate":…` for a trace's trace_end line (tiered store;
  /// empty for the others): the policy's demand hit rate and Belady's on the same accesses.
  std::string trace_end_fields() const;

  /// Events of every step: routing, selection, timing (subscribe before generating).
  virtual EventBus& events() = 0;
};

}  // namespace moe
