#include "ui/studio_types.h"

namespace moe::ui {

ModelInfo model_info_from(const ModelSummary& s, const QString& path, bool demo) {
  ModelInfo m;
  m.path = path;
  m.name = QString::fromStdString(s.name);
  m.architecture = QString::fromStdString(s.architecture);
  m.file_type = QString::fromStdString(s.file_type);
  m.n_layer = s.n_layer;
  m.n_embd = s.n_embd;
  m.n_expert = s.n_expert;
  m.n_expert_used = s.n_expert_used;
  m.n_expert_ff = s.n_expert_ff;
  m.n_ctx = s.n_ctx;
  m.file_bytes = s.file_bytes;
  m.kv_cache_bytes = s.kv_cache_bytes;
  m.kv_type = QString::fromStdString(s.kv_type);
  m.backend = QString::fromStdString(s.backend);
  m.random_weights = s.random_weights;
  m.demo = demo;
  return m;
}

void set_store_info(ModelInfo& m, const std::optional<TieredStoreStats>& stats) {
  if (!stats) return;
  m.cache_policy = QString::fromStdString(stats->policy);
  m.ram_budget_bytes = stats->budget_bytes;
  m.all_experts_bytes = stats->all_experts_bytes;
  m.min_budget_bytes = stats->min_budget_bytes;
  m.residency = stats->residency;
}

AnswerStats answer_stats_from(const GenerateStats& s) {
  AnswerStats a;
  a.prompt_tokens = s.prompt_tokens;
  a.generated_tokens = s.generated_tokens;
  a.prompt_tok_per_s = s.prompt_tok_per_s();
  a.decode_tok_per_s = s.decode_tok_per_s();
  a.time_to_first_token_s = s.time_to_first_token_s;
  a.stop_reason = QString::fromStdString(s.stop_reason);
  a.computed_on = QString::fromStdString(s.computed_on);
  a.dropped_messages = s.dropped_messages;
  return a;
}

QString format_bytes(quint64 bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  return u == 0 ? QStringLiteral("%1 B").arg(bytes)
                : QStringLiteral("%1 %2").arg(v, 0, 'f', v < 10 ? 2 : 1).arg(units[u]);
}

}  // namespace moe::ui
