#include "core/frontend/engine_impl.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "core/store/tiered_expert_store.h"

namespace moe {

Result<std::unique_ptr<Engine>> Engine::load(const Deployment& deployment,
                                             const ProgressCallback& progress) {
  return EngineImpl::create(deployment, progress);
}

Result<std::unique_ptr<Engine>> EngineImpl::create(const Deployment& deployment,
                                                   const ProgressCallback& progress) {
  std::unique_ptr<EngineImpl> e(new EngineImpl());
  auto backend = assemble(deployment, progress);
  if (!backend.ok()) return backend.error();  // loader errors pass through unchanged
  e->backend_ = std::move(backend).value();
  e->tokenizer_ = e->backend_->tokenizer.get();
  e->session_ = e->backend_->session.get();
  const SelectionSpec& sel = deployment.selection;
  e->settings_ = std::make_shared<const LiveSettings>(
      LiveSettings{sel.experts_per_token, sel.theta, nullptr});
  e->template_kind_ =
      detect_chat_template(e->tokenizer_->data().chat_template,
                           e->tokenizer_->data().model == "llama" ? ChatTemplateKind::kMistral
                                                                  : ChatTemplateKind::kChatML);
  if (!deployment.trace_path.empty()) {
    auto tw = TraceWriter::start(deployment.trace_path, e->backend_->bus);
    if (!tw) return tw.error();
    e->trace_ = std::move(*tw);
    e->trace_->set_end_fields([raw = e.get()] { return raw->trace_end_fields(); });
  }
  e->fill_summary();
  return std::unique_ptr<Engine>(std::move(e));
}

EngineImpl::~EngineImpl() {
  trace_.reset();  // drains and unsubscribes before the bus goes
}

void EngineImpl::fill_summary() {
  const Model& model = *backend_->model;
  const HParams& hp = model.hparams();
  const GgufFile& f = model.file();
  const MemoryPlan& plan = backend_->plan;
  ModelSummary& s = summary_;
  auto name = f.get_string("general.name");
  s.name = name ? *name : std::filesystem::path(f.path()).stem().string();
  s.architecture = hp.moe ? hp.arch + " (MoE)" : hp.arch;
  s.file_type = model.weight_types();
  s.n_layer = hp.n_layer;
  s.n_embd = hp.n_embd;
  s.n_head = hp.n_head;
  s.n_head_kv = hp.n_head_kv;
  s.n_ff = hp.n_ff;
  s.n_expert_ff = hp.moe ? hp.n_expert_ff : 0;
  s.n_expert = hp.moe ? hp.n_expert : 0;
  s.n_expert_used = hp.moe ? hp.n_expert_used : 0;
  s.n_vocab = hp.n_vocab;
  s.n_ctx_train = hp.n_ctx_train;
  s.n_ctx = session_->n_ctx();
  s.tokenizer_model = tokenizer_->data().model;
  s.chat_template = std::string(chat_template_name(template_kind_));
  s.file_bytes = f.file_size();
  s.expert_bytes = plan.expert_bytes;
  s.non_expert_bytes = plan.non_expert_bytes;
  s.kv_cache_bytes = plan.kv_cache_bytes;
  s.compute_bytes = plan.compute_bytes;
  s.kv_type = kv_type_name(plan.kv_type);
  s.backend = backend_->describe();
  s.latency_model = backend_->latency_note;
  auto rnd = f.get_bool("moe.random_weights");
  s.random_weights = rnd.ok() && *rnd;
}

Status EngineImpl::set_ram_budget(uint64_t bytes) {
  auto* tiered = dynamic_cast<TieredExpertStore*>(backend_->store.get());
  if (tiered == nullptr) {
    return make_error("the '", std::string(backend_->store->name()),
                      "' expert store has no RAM budget (load with --ram-budget)");
  }
  return tiered->set_ram_budget(bytes);  // summary().backend keeps the budget at load
}

std::optional<TieredStoreStats> EngineImpl::store_stats() const {
  const auto* tiered = dynamic_cast<const TieredExpertStore*>(backend_->store.get());
  if (tiered == nullptr) return std::nullopt;
  return tiered->stats();
}

std::string Engine::trace_end_fields() const {
  const auto stats = store_stats();
  const auto oracle = store_oracle_hit_rate();
  if (!stats || !oracle) return {};
  char buf[96];
  std::snprintf(buf, sizeof buf, ",\"cache_hit_rate\":%.6f,\"oracle_hit_rate\":%.6f",
                stats->hit_rate(), *oracle);
  return buf;
}

std::optional<double> EngineImpl::store_oracle_hit_rate() const {
  const auto* tiered = dynamic_cast<const TieredExpertStore*>(backend_->store.get());
  if (tiered == nullptr) return std::nullopt;
  return tiered->oracle_hits().rate();
}

void EngineImpl::update_settings(const std::function<void(LiveSettings&)>& edit) {
  std::lock_guard lock(settings_mu_);
  auto next = std::make_shared<LiveSettings>(*settings_);
  edit(*next);
  // Front ends range-check what people type; this is the last line for API callers: a θ
  // that is not a number keeps the previous one, others are clamped to [0, 1].
  if (!std::isfinite(next->theta)) next->theta = settings_->theta;
  next->theta = std::clamp(next->theta, 0.0f, 1.0f);
  next->experts_per_token = std::clamp(next->experts_per_token, 0, kMaxExpertsUsed);
  settings_ = std::move(next);
}

LiveSettings EngineImpl::settings() const {
  std::lock_guard lock(settings_mu_);
  return *settings_;
}

int EngineImpl::experts_per_token() const {
  return backend_->routing(settings()).k;
}

void EngineImpl::apply_live_settings() {
  {
    std::lock_guard lock(settings_mu_);
    if (active_ == settings_) return;  // unchanged since the last step
    active_ = settings_;               // kept alive (its selector too) for the whole step
  }
  const RoutingControl rc = backend_->routing(*active_);
  session_->set_routing(rc);
  const RoutingKey key{rc.k, rc.theta, rc.selector};
  if (!(key == cached_key_)) {
    // Positions already cached were routed with other settings: not reusable any more.
    if (session_->pos() > 0) cache_mixed_ = true;
    cached_key_ = key;
  }
}

EngineImpl::RoutingKey EngineImpl::routing_key(const LiveSettings& s) const {
  const RoutingControl rc = backend_->routing(s);
  return {rc.k, rc.theta, rc.selector};
}

int EngineImpl::reuse_cached_prefix(const std::vector<int32_t>& prompt, bool allowed) {
  size_t n = 0;
  if (allowed && !cache_mixed_ && routing_key(settings()) == cached_key_) {
    const size_t limit = std::min({cached_.size(), prompt.size() - 1,  // re-eval >= 1 token
                                   static_cast<size_t>(session_->pos())});
    while (n < limit && cached_[n] == prompt[n]) ++n;
  }
  session_->rewind(static_cast<int>(n));
  cached_.resize(n);
  if (n == 0) cache_mixed_ = false;  // everything is recomputed with the settings of this turn
  return static_cast<int>(n);
}

}  // namespace moe
