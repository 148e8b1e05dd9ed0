#pragma once
// Immutable snapshots that cross from the engine thread to the widgets by queued signal.
// Plain values only: a widget never holds a pointer into the engine.
#include <QMetaType>
#include <QString>
#include <QStringList>
#include <optional>
#include <vector>

#include "core/frontend/engine.h"

namespace moe::ui {

/// What the window shows about the loaded model (copied from ModelSummary).
struct ModelInfo {
  QString path, name, architecture, file_type;
  int n_layer = 0, n_embd = 0, n_expert = 0, n_expert_used = 0, n_expert_ff = 0, n_ctx = 0;
  quint64 file_bytes = 0, kv_cache_bytes = 0;
  QString kv_type;  ///< "F16" / "F32"
  QString backend;  ///< the assembled parts (store, executor, selector, ...)
  bool random_weights = false;
  bool demo = false;  ///< the bundled demo model
  /// The tiered expert store at load (cache_policy empty: no expert cache, all resident).
  QString cache_policy;
  quint64 ram_budget_bytes = 0, all_experts_bytes = 0, min_budget_bytes = 0;
  std::vector<ExpertResidency> residency;  ///< [layer * n_expert + expert]
};

/// One finished (or stopped) answer.
struct AnswerStats {
  int prompt_tokens = 0, generated_tokens = 0;
  double prompt_tok_per_s = 0, decode_tok_per_s = 0, time_to_first_token_s = 0;
  QString stop_reason, computed_on;
  int dropped_messages = 0;  ///< oldest turns left out to fit the context
};

/// Settings the operator changes between answers (sent with each request).
struct GenerationSettings {
  SamplerConfig sampler;
  int max_new_tokens = 512;
  /// Regenerate reuses sampler.seed (reproducible) instead of drawing a fresh one.
  bool pin_seed = false;
};

ModelInfo model_info_from(const ModelSummary& s, const QString& path, bool demo);
/// The store part of ModelInfo from the engine's snapshot (nothing for other stores).
void set_store_info(ModelInfo& m, const std::optional<TieredStoreStats>& stats);
AnswerStats answer_stats_from(const GenerateStats& s);
/// "12.5 MB", "3.2 GB".
QString format_bytes(quint64 bytes);

}  // namespace moe::ui

Q_DECLARE_METATYPE(moe::ui::ModelInfo)
Q_DECLARE_METATYPE(moe::ui::AnswerStats)
Q_DECLARE_METATYPE(moe::GenerateRequest)
