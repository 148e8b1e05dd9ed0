#include "ui/memory_estimate.h"

#include <QFile>
#include <QFileInfo>
#include <algorithm>

#include <QThread>

#include "core/model/model.h"
#include "ui/studio_types.h"

namespace moe::ui {

QString MemoryEstimate::describe() const {
  QString s = QObject::tr("%1 weights + %2 KV cache (%3 tokens, %4) + %5 buffers = %6")
                  .arg(format_bytes(weights_bytes), format_bytes(kv_cache_bytes))
                  .arg(n_ctx)
                  .arg(kv_type, format_bytes(compute_bytes), format_bytes(total()));
  if (available_bytes > 0) s += QObject::tr("; %1 free").arg(format_bytes(available_bytes));
  return s;
}

quint64 available_memory_bytes() {
  QFile f("/proc/meminfo");
  if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return 0;
  // /proc files report size 0, so atEnd() is true at once: read everything, then split.
  for (const QByteArray& line : f.readAll().split('\n')) {
    if (line.startsWith("MemAvailable:")) {
      const QList<QByteArray> parts = line.simplified().split(' ');
      if (parts.size() >= 2) return parts[1].toULongLong() * 1024;  // kB
    }
  }
  return 0;
}

Result<MemoryEstimate> estimate_model_memory(const QString& path, int n_ctx, KvType kv_type) {
  if (!QFileInfo(path).isFile()) return make_error(path.toStdString(), ": no such file");
  auto model = Model::load(path.toStdString());
  if (!model.ok()) return model.error();
  const int threads = std::max(1, QThread::idealThreadCount() - 1);  // as the worker uses
  const MemoryPlan plan = plan_memory(*model.value(), n_ctx, kv_type, kDefaultMaxBatch, threads);
  MemoryEstimate m;
  m.weights_bytes = model.value()->file().file_size();
  m.n_ctx = plan.n_ctx;
  m.kv_cache_bytes = plan.kv_cache_bytes;
  m.compute_bytes = plan.compute_bytes;
  m.kv_type = kv_type_name(kv_type);
  m.available_bytes = available_memory_bytes();
  auto name = model.value()->file().get_string("general.name");
  m.model_name = name.ok() ? QString::fromStdString(name.value()) : QFileInfo(path).fileName();
  return m;
}

}  // namespace moe::ui
