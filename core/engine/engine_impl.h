#pragma once
// Private to core/engine: the local-CPU implementation of the Engine front end (engine.h).
// engine_impl.cpp loads and holds the parts; engine_generate.cpp runs a chat turn.
#include <atomic>
#include <memory>
#include <mutex>

#include "core/engine/engine.h"
#include "core/engine/local_runtime.h"
#include "core/engine_api/trace_writer.h"

namespace moe {

class EngineImpl final : public Engine {
 public:
  static Result<std::unique_ptr<Engine>> create(const EngineConfig& config,
                                                const ProgressCallback& progress);
  ~EngineImpl() override;

  const ModelSummary& summary() const override { return summary_; }
  const Tokenizer& tokenizer() const override { return *tokenizer_; }
  Result<GenerateStats> generate(const GenerateRequest& request,
                                 const TextCallback& on_text) override;
  void request_stop() override { stop_.store(true, std::memory_order_relaxed); }
  void set_experts_per_token(int k) override;
  void set_theta(float theta) override { theta_.store(theta, std::memory_order_relaxed); }
  void set_selector(std::shared_ptr<ExpertSelector> selector) override;
  int experts_per_token() const override { return k_.load(std::memory_order_relaxed); }
  float theta() const override { return theta_.load(std::memory_order_relaxed); }
  EventBus& events() override { return bus_; }

 private:
  EngineImpl() = default;
  Status touch_weights(const ProgressCallback& progress);
  void fill_summary(const EngineConfig& config);
  /// Reads the live settings once for the next forward call.
  void apply_live_settings();
  /// Prompt tokens; `dropped` = oldest messages left out to fit the context.
  Result<std::vector<int32_t>> encode_prompt(const GenerateRequest& request, int& dropped) const;
  std::vector<int32_t> encode_messages(const std::vector<ChatMessage>& messages) const;
  Status prefill(std::span<const int32_t> tokens);
  /// How many leading prompt tokens the session's cache already holds, valid for the routing
  /// settings about to be used; rewinds the session to that point.
  int reuse_cached_prefix(const std::vector<int32_t>& prompt, bool allowed);

  EventBus bus_;  // declared first: outlives the session that publishes to it
  LocalRuntime rt_;
  // Shorthands into rt_.
  Model* model_ = nullptr;
  Tokenizer* tokenizer_ = nullptr;
  ExpertExecutor* executor_ = nullptr;
  Session* session_ = nullptr;
  // From EngineConfig::executor_wrapper; destroyed before rt_ (whose executor it may wrap).
  std::unique_ptr<ExpertExecutor> wrapped_executor_;
  std::unique_ptr<TraceWriter> trace_;
  ModelSummary summary_;
  ChatTemplateKind template_kind_ = ChatTemplateKind::kMistral;

  std::atomic<bool> stop_{false};
  std::atomic<int> k_{2};
  std::atomic<float> theta_{0};
  mutable std::mutex selector_mu_;
  std::shared_ptr<ExpertSelector> selector_;         // guarded by selector_mu_
  std::shared_ptr<ExpertSelector> active_selector_;  // the copy the current step uses

  // What the session's KV cache holds: the tokens at positions [0, cached_.size()), computed
  // with the routing settings cached_key_ (unless cache_mixed_: the settings changed mid-way).
  struct RoutingKey {
    int k = 0;
    float theta = 0;
    const ExpertSelector* selector = nullptr;
    bool operator==(const RoutingKey&) const = default;
  };
  RoutingKey current_routing_key() const;
  std::vector<int32_t> cached_;
  RoutingKey cached_key_;
  bool cache_mixed_ = false;
};

}  // namespace moe
