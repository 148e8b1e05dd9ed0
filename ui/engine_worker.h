#pragma once
// The half of the engine controller that lives on the worker QThread. Every slot here may block
// (model generation, loading, inference); the UI thread only ever reaches it through queued
// invocations and hears back through queued signals.
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>
#include <mutex>

#include "core/frontend/engine.h"
#include "ui/load_settings.h"
#include "ui/studio_types.h"

namespace moe::ui {

/// State shared by the UI-side controller and the worker. The mutex guards only pointer swaps
/// (never held during inference); everything else is atomic.
struct EngineShared {
  std::shared_ptr<Engine> engine() const {
    std::lock_guard lock(mu);
    return engine_;
  }
  std::shared_ptr<EventQueue> events() const {
    std::lock_guard lock(mu);
    return events_;
  }
  void set(std::shared_ptr<Engine> e, std::shared_ptr<EventQueue> q) {
    std::lock_guard lock(mu);
    engine_ = std::move(e);
    events_ = std::move(q);
  }

  std::atomic<bool> cancel_load{false};
  std::atomic<quint64> cancelled_request{0};  ///< id of a request stopped before/while running
  std::atomic<int> pieces{0};                 ///< text pieces of the current answer so far

 private:
  mutable std::mutex mu;
  std::shared_ptr<Engine> engine_;
  std::shared_ptr<EventQueue> events_;
};

class EngineWorker : public QObject {
  Q_OBJECT
 public:
  explicit EngineWorker(std::shared_ptr<EngineShared> shared) : shared_(std::move(shared)) {}

 public slots:
  /// Loads `path` (writing the demo model there first when `demo` and it is missing).
  void load(const QString& path, bool demo, int n_ctx, KvType kv_type,
            const moe::ui::LoadSettings& placement);
  /// Runs one chat turn to completion or stop.
  void generate(quint64 id, const moe::GenerateRequest& request);
  /// Drops the engine on this thread (called before the thread quits).
  void unload();

 signals:
  void load_progress(double fraction);
  void loaded(const moe::ui::ModelInfo& info);
  void load_failed(const QString& message);
  void text(quint64 id, const QString& piece);
  void finished(quint64 id, const moe::ui::AnswerStats& stats);
  void failed(quint64 id, const QString& message);

 private:
  std::shared_ptr<EngineShared> shared_;
};

}  // namespace moe::ui
