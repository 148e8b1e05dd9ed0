#include "ui/engine_worker.h"

#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>
#include <algorithm>
#include <exception>

#include "core/util/limits.h"
#include "ui/demo_model.h"

namespace moe::ui {

namespace {
// Pieces are coalesced for this long before crossing to the UI thread, so a fast model sends
// tens of signals per second instead of thousands.
constexpr qint64 kTextBatchMs = 25;
}  // namespace

void EngineWorker::load(const QString& path, bool demo, int n_ctx, KvType kv_type,
                        const LoadSettings& placement) {
  try {
    if (shared_->cancel_load.load()) {
      emit load_failed(tr("model load cancelled"));
      return;
    }
    if (demo && !QFileInfo::exists(path)) {
      Status st = write_demo_model(path.toStdString());
      if (!st.ok()) {
        emit load_failed(QString::fromStdString(st.message()));
        return;
      }
    }
    Deployment config;
    config.model_path = path.toStdString();
    config.n_ctx = n_ctx;
    config.kv_type = kv_type;
    // Leave one hardware thread to the UI: a desktop app must stay smooth while it computes
    // (docs/benchmarks.md "UI responsiveness"). At most kMaxThreads, which the deployment
    // checks: a machine with more hardware threads still loads.
    const int hw = QThread::idealThreadCount();
    config.n_threads = std::clamp(hw - 1, 1, kMaxThreads);
    if (Status st = apply_load_settings(placement, config); !st.ok()) {
      emit load_failed(QString::fromStdString(st.message()));
      return;
    }
    auto result = Engine::load(config, [this](float f) {
      emit load_progress(f);
      return !shared_->cancel_load.load();
    });
    if (!result.ok()) {
      emit load_failed(QString::fromStdString(result.message()));
      return;
    }
    std::shared_ptr<Engine> engine = std::move(result).value();
    auto queue = engine->events().subscribe(1 << 15);
    ModelInfo info = model_info_from(engine->summary(), path, demo);
    set_store_info(info, engine->store_stats());  // after subscribing: events continue it
    shared_->set(std::move(engine), std::move(queue));  // the old engine dies here, on this thread
    emit loaded(info);
  } catch (const std::exception& e) {  // nothing may escape a slot
    emit load_failed(QString::fromUtf8(e.what()));
  }
}

void EngineWorker::generate(quint64 id, const GenerateRequest& request) {
  shared_->pieces.store(0);
  auto engine = shared_->engine();
  if (!engine) {
    emit failed(id, tr("No model is loaded."));
    return;
  }
  AnswerStats stopped_early;
  stopped_early.stop_reason = "stopped";
  if (shared_->cancelled_request.load() == id) {  // Stop pressed before we got here
    emit finished(id, stopped_early);
    return;
  }
  try {
    std::string pending;
    QElapsedTimer since_emit;
    since_emit.start();
    auto on_text = [&](std::string_view piece) {
      shared_->pieces.fetch_add(1);
      // A stop that raced with the start of generate() (the engine resets its flag there).
      if (shared_->cancelled_request.load() == id) engine->request_stop();
      pending.append(piece);
      if (since_emit.elapsed() >= kTextBatchMs) {
        emit text(id, QString::fromUtf8(pending.data(), static_cast<qsizetype>(pending.size())));
        pending.clear();
        since_emit.restart();
      }
    };
    auto result = engine->generate(request, on_text);
    if (!pending.empty())
      emit text(id, QString::fromUtf8(pending.data(), static_cast<qsizetype>(pending.size())));
    if (!result.ok()) {
      emit failed(id, QString::fromStdString(result.message()));
      return;
    }
    emit finished(id, answer_stats_from(result.value()));
  } catch (const std::exception& e) {
    emit failed(id, QString::fromUtf8(e.what()));
  }
}

void EngineWorker::unload() {
  shared_->set(nullptr, nullptr);
}

}  // namespace moe::ui
