#include "ui/engine_controller.h"

#include <QRandomGenerator>
#include <algorithm>

#include "ui/engine_worker.h"

namespace moe::ui {

EngineController::EngineController(QObject* parent)
    : QObject(parent),
      shared_(std::make_shared<EngineShared>()),
      scenario_(ChannelScenario::paper_default()) {
  qRegisterMetaType<ModelInfo>();
  qRegisterMetaType<AnswerStats>();
  qRegisterMetaType<GenerateRequest>();
  thread_.setObjectName("moe-engine");
  worker_ = new EngineWorker(shared_);
  worker_->moveToThread(&thread_);
  connect(worker_, &EngineWorker::load_progress, this, &EngineController::load_progress);
  connect(worker_, &EngineWorker::loaded, this, &EngineController::on_loaded);
  connect(worker_, &EngineWorker::load_failed, this, &EngineController::on_load_failed);
  connect(worker_, &EngineWorker::text, this, &EngineController::answer_text);
  connect(worker_, &EngineWorker::finished, this, &EngineController::on_finished);
  connect(worker_, &EngineWorker::failed, this, &EngineController::on_failed);
  thread_.start();
}

EngineController::~EngineController() {
  shared_->cancel_load.store(true);
  shared_->cancelled_request.store(running_id_);
  if (auto e = shared_->engine()) e->request_stop();
  budget_pool_.waitForDone();  // its tasks hold the engine, which must die on its own thread
  // The engine must die on the thread that used it: queue the unload behind any running work.
  QMetaObject::invokeMethod(worker_, &EngineWorker::unload, Qt::QueuedConnection);
  thread_.quit();
  thread_.wait();
  delete worker_;
}

void EngineController::load_model(const QString& path, bool demo) {
  if (loading_ || running_id_ != 0) return;
  loading_ = true;
  budget_pool_.waitForDone();  // a budget change in flight holds the old engine
  shared_->cancel_load.store(false);  // here, not on the worker: a cancel right after counts
  emit load_started(path);
  QMetaObject::invokeMethod(
      worker_, [w = worker_, path, demo, n_ctx = n_ctx_, kv = kv_type_, p = load_settings_] {
        w->load(path, demo, n_ctx, kv, p);
      },
      Qt::QueuedConnection);
}

void EngineController::cancel_load() {
  shared_->cancel_load.store(true);
}

void EngineController::on_loaded(const ModelInfo& info) {
  loading_ = false;
  has_model_ = true;
  model_ = info;
  k_ = std::max(1, info.n_expert_used);
  settings_.max_new_tokens = bounded_answer_length(settings_.max_new_tokens);
  install_selector();
  if (auto e = shared_->engine()) {
    e->set_theta(theta_);
    e->set_experts_per_token(k_);
  }
  emit model_loaded(info);
  emit settings_changed();
}

void EngineController::on_load_failed(const QString& message) {
  loading_ = false;
  emit load_failed(message);
}

quint64 EngineController::generate(std::vector<ChatMessage> messages, bool fresh_seed) {
  if (!has_model_ || loading_ || running_id_ != 0) return 0;
  GenerateRequest request;
  request.messages = std::move(messages);
  request.max_new_tokens = settings_.max_new_tokens;
  request.sampler = settings_.sampler;
  if (fresh_seed && !settings_.pin_seed)
    request.sampler.seed = QRandomGenerator::global()->generate64();
  const quint64 id = next_id_++;
  running_id_ = id;
  pieces_at_stop_ = -1;
  QMetaObject::invokeMethod(
      worker_, [w = worker_, id, request] { w->generate(id, request); }, Qt::QueuedConnection);
  emit generating_changed(true);
  return id;
}

void EngineController::stop() {
  if (running_id_ == 0) return;
  shared_->cancelled_request.store(running_id_);
  pieces_at_stop_ = shared_->pieces.load();
  if (auto e = shared_->engine()) e->request_stop();
}

int EngineController::pieces_total() const {
  return shared_->pieces.load();
}

void EngineController::on_finished(quint64 id, const AnswerStats& stats) {
  if (id == running_id_) running_id_ = 0;
  emit answer_finished(id, stats);
  emit generating_changed(false);
}

void EngineController::on_failed(quint64 id, const QString& message) {
  if (id == running_id_) running_id_ = 0;
  emit answer_failed(id, message);
  emit generating_changed(false);
}

void EngineController::set_theta(float theta) {
  theta_ = std::clamp(theta, 0.0f, 0.5f);
  if (auto e = shared_->engine()) e->set_theta(theta_);
  emit settings_changed();
}

void EngineController::set_experts_per_token(int k) {
  k_ = std::clamp(k, 1, std::max(1, std::min(model_.n_expert, kMaxExpertsUsed)));
  if (auto e = shared_->engine()) e->set_experts_per_token(k_);
  emit settings_changed();
}

void EngineController::set_kv_type(KvType kv_type) {
  if (kv_type == kv_type_) return;
  kv_type_ = kv_type;
  emit settings_changed();
}

int EngineController::bounded_answer_length(int tokens) const {
  return has_model_ && model_.n_ctx > 0 ? std::clamp(tokens, 1, model_.n_ctx) : tokens;
}

void EngineController::set_load_settings(const LoadSettings& s) {
  if (s == load_settings_) return;
  load_settings_ = s;
  emit settings_changed();
}

void EngineController::set_ram_budget(quint64 bytes) {
  std::shared_ptr<Engine> engine = shared_->engine();
  if (!engine) {
    emit ram_budget_applied(tr("No model is loaded."));
    return;
  }
  budget_pool_.start([this, engine, bytes] {
    const Status st = engine->set_ram_budget(bytes);
    const QString error = st.ok() ? QString() : QString::fromStdString(st.message());
    QMetaObject::invokeMethod(
        this,
        [this, error, bytes] {
          if (error.isEmpty()) model_.ram_budget_bytes = bytes;
          emit ram_budget_applied(error);
        },
        Qt::QueuedConnection);
  });
}

void EngineController::set_generation_settings(const GenerationSettings& s) {
  settings_ = s;
  settings_.max_new_tokens = bounded_answer_length(s.max_new_tokens);
  emit settings_changed();
}

void EngineController::set_scenario(ChannelScenario scenario) {
  scenario_ = std::move(scenario);
  install_selector();
  emit scenario_changed();
}

void EngineController::install_selector() {
  auto e = shared_->engine();
  if (!e || !has_model_) return;
  e->set_selector(scenario_.make_selector(model_));
}

void EngineController::post_to_worker(std::function<void()> fn) {
  QMetaObject::invokeMethod(worker_, std::move(fn), Qt::QueuedConnection);
}

std::shared_ptr<EventQueue> EngineController::event_queue() const {
  return shared_->events();
}
std::shared_ptr<Engine> EngineController::engine() const {
  return shared_->engine();
}

}  // namespace moe::ui
