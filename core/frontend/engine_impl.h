#pragma once
// Private to core/frontend: the implementation of the Engine front end (engine.h) over a
// Backend from the assembly place. engine_impl.cpp loads and holds it; engine_generate.cpp
// runs a chat turn.
#include <atomic>
#include <memory>
#include <mutex>

#include "core/deploy/assemble.h"
#include "core/engine_api/trace_writer.h"
#include "core/frontend/engine.h"

namespace moe {

class EngineImpl final : public Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(const Deployment& deployment,
                                                const ProgressCallback& progress);
  ~EngineImpl() override;

  const ModelSummary& summary() const override { return summary_; }
  const Tokenizer& tokenizer() const override { return *tokenizer_; }
  Result<GenerateStats> generate(const GenerateRequest& request,
                                 const TextCallback& on_text) override;
  void request_stop() override { stop_.store(true, std::memory_order_relaxed); }
  void update_settings(const std::function<void(LiveSettings&)>& edit) override;
  LiveSettings settings() const override;
  int experts_per_token() const override;
  EventBus& events() override { return backend_->bus; }
  Status set_ram_budget(uint64_t bytes) override;
  std::optional<TieredStoreStats> store_stats() const override;
  std::optional<double> store_oracle_hit_rate() const override;

 private:
  EngineImpl() = default;
  void fill_summary();
  /// Takes the newest live settings snapshot for the next forward call.
  void apply_live_settings();
  /// Prompt tokens; `dropped` = oldest messages left out to fit the context.
  Result<std::vector<int32_t>> encode_prompt(const GenerateRequest& request, int& dropped) const;
  Status prefill(std::span<const int32_t> tokens);
  /// How many leading prompt tokens the session's cache already holds, valid for the routing
  /// settings about to be used; rewinds the session to that point.
  int reuse_cached_prefix(const std::vector<int32_t>& prompt, bool allowed);

  std::unique_ptr<Backend> backend_;
  // Shorthands into backend_.
  Tokenizer* tokenizer_ = nullptr;
  Session* session_ = nullptr;
  std::unique_ptr<TraceWriter> trace_;  // drained and unsubscribed before backend_ goes
  ModelSummary summary_;
  ChatTemplateKind template_kind_ = ChatTemplateKind::kMistral;

  std::atomic<bool> stop_{false};
  mutable std::mutex settings_mu_;
  std::shared_ptr<const LiveSettings> settings_;  // guarded by settings_mu_; never null
  std::shared_ptr<const LiveSettings> active_;    // the snapshot the current step uses

  // What the session's KV cache holds: the tokens at positions [0, cached_.size()), computed
  // with the routing cached_key_ (unless cache_mixed_: the settings changed mid-way).
  struct RoutingKey {
    int k = 0;
    float theta = 0;
    const ExpertSelector* selector = nullptr;
    bool operator==(const RoutingKey&) const = default;
  };
  RoutingKey routing_key(const LiveSettings& s) const;
  std::vector<int32_t> cached_;
  RoutingKey cached_key_;
  bool cache_mixed_ = false;
};

}  // namespace moe
