#pragma once
// Owns the engine on a worker QThread (CONVENTIONS "Qt"). Widgets call these methods on the UI
// thread; none of them waits on inference, loading or the network: work is queued to the
// worker, results come back as signals carrying immutable snapshots. Stop and the live
// settings (θ, k, selector) go straight to the engine's thread-safe setters.
#include <QObject>
#include <QThread>
#include <QThreadPool>
#include <functional>
#include <memory>
#include <vector>

#include "core/tokenizer/chat_template.h"
#include "ui/channel_scenario.h"
#include "ui/load_settings.h"
#include "ui/studio_types.h"

namespace moe::ui {

struct EngineShared;
class EngineWorker;

class EngineController : public QObject {
  Q_OBJECT
 public:
  explicit EngineController(QObject* parent = nullptr);
  /// Stops any answer (at the next token step), then quit() + wait() on the worker.
  ~EngineController() override;

  // Model.
  void load_model(const QString& path, bool demo);
  void cancel_load();
  bool is_loading() const { return loading_; }
  bool has_model() const { return has_model_; }
  const ModelInfo& model() const { return model_; }

  // Answers.
  /// Queues one chat turn; returns its id (0 if no model or one is running). `fresh_seed`
  /// (Regenerate): sample with a new random seed unless the settings pin the seed.
  quint64 generate(std::vector<ChatMessage> messages, bool fresh_seed = false);
  void stop();
  bool is_generating() const { return running_id_ != 0; }
  /// Text pieces the engine produced for the current/last answer, and how many it had produced
  /// when stop() was called (for "stops within one token step").
  int pieces_total() const;
  int pieces_at_stop() const { return pieces_at_stop_; }

  // Live settings.
  void set_theta(float theta);
  float theta() const { return theta_; }
  void set_experts_per_token(int k);
  int experts_per_token() const { return k_; }
  /// KV cache precision of the next model load (F16 for chat: half the memory; F32 exact).
  void set_kv_type(KvType kv_type);
  KvType kv_type() const { return kv_type_; }
  /// RAM budget, cache policy and LAN devices of the next model load (checked by the caller
  /// with check_load_settings; a bad one fails the load with its message).
  void set_load_settings(const LoadSettings& s);
  const LoadSettings& load_settings() const { return load_settings_; }
  /// Changes the loaded model's RAM budget (tiered store) without stopping an answer: runs on a
  /// pool thread (it may wait for reads in flight), then emits ram_budget_applied.
  void set_ram_budget(quint64 bytes);
  /// Context length of the next model load (the one default, clamped to the model's).
  int context_length() const { return n_ctx_; }
  /// The answer length is bounded by the loaded model's context (an answer cannot be longer).
  void set_generation_settings(const GenerationSettings& s);
  const GenerationSettings& generation_settings() const { return settings_; }
  /// Replaces the channel scenario (and the WDMoE selector built from it).
  void set_scenario(ChannelScenario scenario);
  const ChannelScenario& scenario() const { return scenario_; }

  /// Runs `fn` on the engine thread, queued behind the work already there (tests use it to
  /// hold the thread while they act on the UI side).
  void post_to_worker(std::function<void()> fn);

  /// The engine's event ring for this model (drained by the dashboard on a timer); may be null.
  std::shared_ptr<EventQueue> event_queue() const;
  /// The running engine, for its thread-safe getters (tests read theta()/experts_per_token()).
  std::shared_ptr<Engine> engine() const;

 signals:
  void load_started(const QString& path);
  void load_progress(double fraction);
  void model_loaded(const moe::ui::ModelInfo& info);
  void load_failed(const QString& message);
  void answer_text(quint64 id, const QString& piece);
  void answer_finished(quint64 id, const moe::ui::AnswerStats& stats);
  void answer_failed(quint64 id, const QString& message);
  void generating_changed(bool generating);
  void settings_changed();
  void scenario_changed();
  /// A set_ram_budget() finished: `error` empty when applied (model().ram_budget_bytes is then
  /// the new budget).
  void ram_budget_applied(const QString& error);

 private:
  void on_loaded(const ModelInfo& info);
  void on_load_failed(const QString& message);
  void on_finished(quint64 id, const AnswerStats& stats);
  void on_failed(quint64 id, const QString& message);
  void install_selector();
  int bounded_answer_length(int tokens) const;

  std::shared_ptr<EngineShared> shared_;
  QThread thread_;
  EngineWorker* worker_ = nullptr;  // lives on thread_, deleted after wait()
  ModelInfo model_;
  bool loading_ = false, has_model_ = false;
  quint64 next_id_ = 1, running_id_ = 0;
  int pieces_at_stop_ = -1;
  float theta_ = 0.0f;
  int k_ = 2;
  KvType kv_type_ = KvType::kF16;
  int n_ctx_ = kDefaultContext;
  GenerationSettings settings_;
  ChannelScenario scenario_;
  LoadSettings load_settings_;
  QThreadPool budget_pool_;  // live budget changes; waited for before the engine goes
};

}  // namespace moe::ui
