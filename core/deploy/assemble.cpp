#include "core/deploy/assemble.h"

#include "core/quant/kernel_tuning.h"

#include <algorithm>
#include <filesystem>
#include <new>

#include "core/store/mapped_expert_store.h"
#include "core/store/ram_copy_expert_store.h"
#include "core/store/routing_profile.h"
#include "core/store/tiered_expert_store.h"
#include "core/wdmoe/tier_latency_source.h"
#include "core/wdmoe/wlr_selector.h"

namespace moe {
namespace {

// The routing profile the planner replays (auto), pinned/hybrid/lfu rank experts by and
// adaptive slots split by: the one named, else the model's saved one if `moe-cli profile` wrote
// it. Either must belong to this model (header hash and size). LRU and no cache read none
// unless one is named or adaptive slots need it.
Status load_store_profile(const Deployment& d, const Model& model, TieredStoreOptions& o) {
  const bool reads_profile =
      d.cache_policy != CachePolicyKind::kLru && d.cache_policy != CachePolicyKind::kNone;
  if (!reads_profile && !d.adaptive_slots && d.profile_path.empty()) return {};
  const ModelIdentity id = model_identity(model.file());
  std::string path = d.profile_path;
  if (path.empty()) {
    auto saved = default_profile_path(id);
    std::error_code ec;
    if (!saved.ok() || !std::filesystem::exists(*saved, ec)) return {};
    path = *saved;
  }
  auto p = load_profile(path, &id);
  if (!p.ok()) return p.error();
  o.profile = std::move(p).value();
  o.profile_source = path;
  return {};
}

Result<std::unique_ptr<ExpertStore>> make_store(const Deployment& d, const Model& model) {
  if (d.store == StoreKind::kTiered) {
    TieredStoreOptions o;
    MOE_TRY(load_store_profile(d, model, o));
    const RamBudget budget = d.ram_budget ? *d.ram_budget : RamBudget{0, 100.0};
    o.ram_budget_bytes = budget.bytes;
    o.ram_budget_percent = budget.percent;
    o.policy = d.cache_policy;
    o.prefetch = d.prefetch && d.prefetch_depth > 0;
    o.prefetch_depth = d.prefetch_depth;
    o.io_threads = d.io_threads;
    o.adaptive_slots = d.adaptive_slots;
    auto tiered = TieredExpertStore::create(model, o);
    if (!tiered.ok()) return tiered.error();
    return std::unique_ptr<ExpertStore>(std::move(tiered).value());
  }
  auto mapped = std::make_unique<MappedExpertStore>(model);
  if (d.store == StoreKind::kMapped) return std::unique_ptr<ExpertStore>(std::move(mapped));
  auto copy = RamCopyExpertStore::create(model, *mapped);
  if (!copy.ok()) return copy.error();
  return std::unique_ptr<ExpertStore>(std::move(copy).value());
}

// Pages the non-expert weights in (the mapping is lazy), then lets the store apply its policy
// to the experts, so the first answer is not slowed by page faults.
Status warm_up(const Model& model, ExpertStore& store, const LoadProgress& progress) {
  uint64_t resident = 0;
  for (const TensorInfo& t : model.file().tensors()) {
    if (!model.is_expert_tensor(t)) resident += t.n_bytes;
  }
  const double total = static_cast<double>(resident + store.warm_bytes());
  const auto report = [&](uint64_t done) {
    return !progress || progress(total > 0 ? static_cast<float>(std::min(1.0, done / total)) : 1);
  };
  uint64_t done = 0;
  for (const TensorInfo& t : model.file().tensors()) {
    if (model.is_expert_tensor(t)) continue;
    if (!touch_pages(t.data, t.n_bytes, done, report)) return Error{"model load cancelled"};
  }
  const uint64_t base = done;
  MOE_TRY(store.warm([&](uint64_t bytes) { return report(base + bytes); }));
  return report(static_cast<uint64_t>(total)) ? Status{} : Status{Error{"model load cancelled"}};
}

// The cached calibration (design §3.1: measured on this machine, not assumed) feeds the
// tiered store's load predictions and tier-aware selection. Never measured here: loading a
// model must not take seconds of disk reads; `moe-cli calibrate` fills the cache.
void load_calibration_into(Backend& b) {
  const bool tier_latency = b.deployment.selection.selector == SelectorKind::kWlr &&
                            b.deployment.selection.latency == LatencyKind::kTier;
  auto* tiered = dynamic_cast<TieredExpertStore*>(b.store.get());
  if (tiered == nullptr && !tier_latency) return;
  bool missing = false;
  auto c = cached_calibration_for(*b.model, &missing);
  if (c.ok()) {
    b.latency_note = "calibrated (" + c->source + ")";
    if (tiered != nullptr) tiered->set_load_latency(c->load_model());
    b.calibration = std::move(c).value();
  } else {
    b.latency_note = missing ? "not calibrated (run moe-cli calibrate -m MODEL): priors and "
                               "the store's measured reads"
                             : "not calibrated (" + c.message() + "): priors and the store's "
                               "measured reads";
  }
}

Result<std::unique_ptr<Backend>> assemble_parts(const Deployment& d, const LoadProgress& progress) {
  auto report = [&](float f) { return !progress || progress(f); };
  const Error cancelled{"model load cancelled"};
  MOE_TRY(validate(d));
  if (!report(0.0f)) return cancelled;
  auto b = std::make_unique<Backend>();
  b->deployment = d;
  auto model = Model::load(d.model_path);  // GGUF reader / loader errors name the file
  if (!model.ok()) return model.error();
  b->model = std::move(model).value();
  // The mat-vec kernel per weight type for this CPU: cached, or measured once (~0.3 s).
  (void)ensure_kernel_tuning();
  auto tok_data = read_tokenizer_data(b->model->file());
  if (!tok_data.ok()) return tok_data.error();  // its errors already name the file
  auto tok = Tokenizer::create(std::move(tok_data).value());
  if (!tok.ok()) return make_error(d.model_path, ": ", tok.message());  // "tokenizer: ..."
  b->tokenizer = std::move(tok).value();
  if (b->tokenizer->n_vocab() > b->model->hparams().n_vocab) {
    return make_error(d.model_path, ": the tokenizer has ", std::to_string(b->tokenizer->n_vocab()),
                      " tokens but token_embd.weight has ",
                      std::to_string(b->model->hparams().n_vocab), " rows");
  }
  b->pool = std::make_unique<ThreadPool>(d.n_threads);
  auto store = make_store(d, *b->model);
  if (!store.ok()) return make_error(d.model_path, ": ", store.message());
  b->store = std::move(store).value();
  b->store->set_event_bus(&b->bus);
  auto exec = CpuExpertExecutor::create(*b->model, *b->store, *b->pool, d.max_batch);
  if (!exec.ok()) return exec.error();
  b->local_executor = std::move(exec).value();
  b->local_executor->set_event_bus(&b->bus);

  const HParams& hp = b->model->hparams();
  load_calibration_into(*b);
  auto sel = build_selection(d.selection, &hp, b->store.get(), b->model.get(),
                             b->calibration ? &*b->calibration : nullptr);
  if (!sel.ok()) return make_error(d.model_path, ": ", sel.message());
  b->selection = std::move(sel).value();
  if (d.executor) {
    const AssemblyContext ctx{*b->model, *b->store, *b->local_executor,
                              *b->pool,  b->bus,    b->selection.sink};
    auto wrapped = d.executor(ctx);
    if (!wrapped.ok()) return make_error(d.model_path, ": expert executor: ", wrapped.message());
    b->wrapped_executor = std::move(wrapped).value();
    b->wrapped_executor->set_event_bus(&b->bus);
  } else if (resolve_backend(d.backend, &b->backend_note) == ComputeBackend::kCuda) {
    auto cuda = make_cuda_expert_executor(*b->model, *b->store,
                                          {d.cuda_device, d.max_batch, d.vram_budget});
    if (!cuda.ok()) return make_error(d.model_path, ": backend cuda: ", cuda.message());
    b->wrapped_executor = std::move(cuda).value();
    b->wrapped_executor->set_event_bus(&b->bus);
  }
  auto session =
      Session::create(*b->model, *b->pool, b->executor(), {d.n_ctx, d.max_batch, d.kv_type});
  if (!session.ok()) return session.error();
  b->session = std::move(session).value();
  b->session->set_event_bus(&b->bus);
  b->session->set_prefetch(b->store->wants_prefetch() || b->executor().wants_prefetch());
  b->session->set_routing(b->routing(LiveSettings{d.selection.experts_per_token,
                                                  d.selection.theta, nullptr}));
  b->plan = plan_memory(*b->model, d.n_ctx, d.kv_type, d.max_batch, b->pool->size());
  if (!report(0.1f)) return cancelled;
  MOE_TRY(warm_up(*b->model, *b->store, [&](float f) { return report(0.1f + 0.9f * f); }));
  return b;
}

}  // namespace

Result<Selection> build_selection(const SelectionSpec& spec, const HParams* hp,
                                  const ExpertStore* store, const Model* model,
                                  const OffloadCalibration* calibration) {
  Selection s;
  if (spec.selector == SelectorKind::kTopK) return s;
  if (spec.latency == LatencyKind::kTier) {
    if (store == nullptr || model == nullptr || model->hparams().n_expert <= 0) {
      return Error{"tier-aware selection needs the model and its expert store"};
    }
    const auto& mhp = model->hparams();
    TierLatencyModel m;
    m.expert_bytes = static_cast<double>(model->expert_bytes()) /
                     (static_cast<double>(mhp.n_layer) * mhp.n_expert);
    // Priors until measured (docs/offloading.md): a disk read at 1 GB/s, an expert computed at
    // 10 GB/s of weights; the store's measured read rate replaces the first once it has one.
    m.s_dc = 1e9;
    m.compute_s = m.expert_bytes / 10e9;
    if (calibration != nullptr) {
      m.s_dc = calibration->s_dc();
      if (calibration->compute_s > 0) m.compute_s = calibration->compute_s;
    }
    const auto* tiered = dynamic_cast<const TieredExpertStore*>(store);
    s.latency = std::make_shared<TierLatencySource>(
        m, [store](int l, int e) { return store->tier_of(l, e); },
        tiered != nullptr ? std::function<double()>([tiered] { return tiered->read_bytes_per_s(); })
                          : std::function<double()>());
  } else if (spec.latency == LatencyKind::kMeasured) {
    auto measured = std::make_shared<MeasuredLatencySource>(spec.n_devices, spec.placement);
    s.sink = measured.get();
    s.latency = std::move(measured);
  } else {
    wdmoe::Scenario scenario = spec.scenario ? *spec.scenario : wdmoe::default_scenario();
    if (spec.scenario_uses_model_dims && hp != nullptr) {
      scenario.model.hidden = hp->n_embd;
      scenario.model.expert_hidden = hp->n_expert_ff > 0 ? hp->n_expert_ff : hp->n_ff;
    }
    MOE_TRY(wdmoe::validate_and_resolve(scenario));
    s.latency = std::make_shared<SimulatedLatencySource>(std::move(scenario));
  }
  s.selector = std::make_shared<WlrSelector>(s.latency);
  return s;
}

ExpertExecutor& Backend::executor() const {
  return wrapped_executor ? *wrapped_executor : *local_executor;
}

RoutingControl Backend::routing(const LiveSettings& s) const {
  const HParams& hp = model->hparams();
  RoutingControl rc;
  rc.selector = s.selector ? s.selector.get() : selection.selector.get();
  const int k = s.experts_per_token > 0 ? s.experts_per_token : hp.n_expert_used;
  rc.k = std::clamp(k, 1, std::max(1, std::min(hp.n_expert, kMaxExpertsUsed)));
  rc.theta = s.theta;
  return rc;
}

std::string Backend::describe() const {
  const RoutingControl rc = routing(LiveSettings{deployment.selection.experts_per_token,
                                                 deployment.selection.theta, nullptr});
  std::string out = "store ";
  out += store->describe();
  out += ", executor ";
  out += executor().name();
  if (!backend_note.empty()) out += " (backend " + backend_note + ")";
  out += ", selector ";
  out += rc.selector ? rc.selector->name() : "top-k";
  if (rc.selector && selection.latency) out += std::string(" (") + selection.latency->name() + ")";
  out += ", k " + std::to_string(rc.k) + ", " + std::to_string(pool->size()) + " threads, ctx " +
         std::to_string(session->n_ctx()) + ", KV " + kv_type_name(deployment.kv_type) +
         ", kernels " + kernel_summary();
  if (!latency_note.empty()) out += ", latency model " + latency_note;
  return out;
}

Result<std::unique_ptr<Backend>> assemble(const Deployment& d, const LoadProgress& progress) {
  try {
    return assemble_parts(d, progress);
  } catch (const std::bad_alloc&) {
    return make_error(d.model_path, ": not enough memory to load this model (",
                      "its sizes need more than this machine can allocate)");
  }
}

}  // namespace moe
