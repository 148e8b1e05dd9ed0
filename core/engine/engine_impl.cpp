#include "core/engine/engine_impl.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace moe {

Result<std::unique_ptr<Engine>> Engine::load(const EngineConfig& config,
                                             const ProgressCallback& progress) {
  return EngineImpl::create(config, progress);
}

Result<std::unique_ptr<Engine>> EngineImpl::create(const EngineConfig& config,
                                                   const ProgressCallback& progress) {
  auto report = [&](float f) { return !progress || progress(f); };
  const Error cancelled{"model load cancelled"};
  if (!report(0.0f)) return cancelled;
  std::unique_ptr<EngineImpl> e(new EngineImpl());
  LocalRuntimeOptions ro;
  ro.n_threads = config.n_threads;
  ro.n_ctx = config.n_ctx;
  ro.max_batch = 64;
  ro.kv_type = config.kv_f16 ? KvType::kF16 : KvType::kF32;
  auto rt = open_local_runtime(config.model_path, ro);
  if (!rt) return rt.error();  // GGUF reader / loader errors pass through unchanged
  e->rt_ = std::move(*rt);
  e->model_ = e->rt_.model.get();
  e->tokenizer_ = e->rt_.tokenizer.get();
  e->executor_ = e->rt_.executor.get();
  e->session_ = e->rt_.session.get();
  if (config.executor_wrapper) {
    auto wrapped = config.executor_wrapper(*e->model_, *e->rt_.executor);
    if (!wrapped) return make_error(config.model_path, ": expert executor: ", wrapped.message());
    e->wrapped_executor_ = std::move(*wrapped);
    e->executor_ = e->wrapped_executor_.get();
    e->session_->set_executor(*e->executor_);
  }
  if (!report(0.1f)) return cancelled;
  e->session_->set_event_bus(&e->bus_);
  e->k_.store(std::min(e->model_->hparams().n_expert_used, kMaxExpertsUsed));
  e->template_kind_ =
      detect_chat_template(e->tokenizer_->data().chat_template,
                           e->tokenizer_->data().model == "llama" ? ChatTemplateKind::kMistral
                                                                  : ChatTemplateKind::kChatML);
  if (!config.trace_path.empty()) {
    auto tw = TraceWriter::start(config.trace_path, e->bus_);
    if (!tw) return tw.error();
    e->trace_ = std::move(*tw);
  }
  MOE_TRY(e->touch_weights([&](float f) { return report(0.1f + 0.9f * f); }));
  e->fill_summary(config);
  return std::unique_ptr<Engine>(std::move(e));
}

EngineImpl::~EngineImpl() {
  trace_.reset();  // drains and unsubscribes before the bus goes
}

// Pages the weights in (the mapping is lazy) so the first answer is not slowed by page faults,
// with progress and cancel. Models larger than half the RAM only get the non-expert weights
// touched; their experts come from the page cache on demand (the offloading layer's business).
Status EngineImpl::touch_weights(const ProgressCallback& progress) {
  const GgufFile& f = model_->file();
  const long page = sysconf(_SC_PAGESIZE);
  const uint64_t ram = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<uint64_t>(page);
  const bool all = f.file_size() < ram / 2;
  if (all && f.fd() >= 0) {
    madvise(const_cast<uint8_t*>(f.base()), f.file_size(), MADV_WILLNEED);
  }
  uint64_t total = 0, done = 0;
  auto wanted = [&](const TensorInfo& t) {
    return all || t.name.find("_exps") == std::string::npos;
  };
  for (const TensorInfo& t : f.tensors()) total += wanted(t) ? t.n_bytes : 0;
  volatile uint8_t sink = 0;
  uint64_t since_report = 0;
  for (const TensorInfo& t : f.tensors()) {
    if (!wanted(t)) continue;
    for (uint64_t off = 0; off < t.n_bytes; off += static_cast<uint64_t>(page)) {
      sink = static_cast<uint8_t>(sink + t.data[off]);
    }
    done += t.n_bytes;
    since_report += t.n_bytes;
    if (since_report >= (64u << 20) || done == total) {
      since_report = 0;
      if (!progress(total ? static_cast<float>(static_cast<double>(done) / total) : 1.0f)) {
        return Error{"model load cancelled"};
      }
    }
  }
  (void)sink;
  return progress(1.0f) ? Status{} : Status{Error{"model load cancelled"}};
}

void EngineImpl::fill_summary(const EngineConfig& config) {
  const HParams& hp = model_->hparams();
  const GgufFile& f = model_->file();
  ModelSummary& s = summary_;
  auto name = f.get_string("general.name");
  s.name = name ? *name : std::filesystem::path(config.model_path).stem().string();
  s.architecture = hp.moe ? hp.arch + " (MoE)" : hp.arch;
  s.file_type = model_->weight_types();
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
  s.expert_bytes = model_->expert_bytes();
  s.non_expert_bytes = model_->non_expert_bytes();
  s.kv_cache_bytes = session_->kv_cache_bytes();
  auto rnd = f.get_bool("moe.random_weights");
  s.random_weights = rnd.ok() && *rnd;
}

void EngineImpl::set_experts_per_token(int k) {
  const HParams& hp = model_->hparams();
  k_.store(std::clamp(k, 1, std::min(hp.n_expert, kMaxExpertsUsed)), std::memory_order_relaxed);
}

void EngineImpl::set_selector(std::shared_ptr<ExpertSelector> selector) {
  std::lock_guard lock(selector_mu_);
  selector_ = std::move(selector);
}

void EngineImpl::apply_live_settings() {
  {
    std::lock_guard lock(selector_mu_);
    active_selector_ = selector_;  // kept alive for the whole step
  }
  RoutingControl rc;
  rc.selector = active_selector_.get();
  rc.k = k_.load(std::memory_order_relaxed);
  rc.theta = theta_.load(std::memory_order_relaxed);
  session_->set_routing(rc);
  const RoutingKey key{rc.k, rc.theta, rc.selector};
  if (!(key == cached_key_)) {
    // Positions already cached were routed with other settings: not reusable any more.
    if (session_->pos() > 0) cache_mixed_ = true;
    cached_key_ = key;
  }
}

EngineImpl::RoutingKey EngineImpl::current_routing_key() const {
  std::lock_guard lock(selector_mu_);
  return {k_.load(std::memory_order_relaxed), theta_.load(std::memory_order_relaxed),
          selector_.get()};
}

int EngineImpl::reuse_cached_prefix(const std::vector<int32_t>& prompt, bool allowed) {
  size_t n = 0;
  if (allowed && !cache_mixed_ && current_routing_key() == cached_key_) {
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
