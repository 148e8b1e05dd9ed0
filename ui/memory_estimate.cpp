#include "ui/memory_estimate.h"

#include <QFile>
#include <QFileInfo>
#include <algorithm>

#include "core/gguf/gguf_file.h"
#include "core/model/hparams.h"
#include "ui/studio_types.h"

namespace moe::ui {

QString MemoryEstimate::describe() const {
  QString s = QObject::tr("%1 weights + %2 KV cache (%3 tokens) = %4")
                  .arg(format_bytes(weights_bytes), format_bytes(kv_cache_bytes))
                  .arg(n_ctx)
                  .arg(format_bytes(total()));
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

Result<MemoryEstimate> estimate_model_memory(const QString& path, int n_ctx) {
  if (!QFileInfo(path).isFile()) return make_error(path.toStdString(), ": no such file");
  auto file = GgufFile::open(path.toStdString());
  if (!file.ok()) return file.error();
  auto hp = read_hparams(*file.value());
  if (!hp.ok()) return hp.error();
  MemoryEstimate m;
  m.weights_bytes = file.value()->file_size();
  m.n_ctx = std::clamp(n_ctx, 1, std::max(1, hp->n_ctx_train));
  m.kv_cache_bytes = 2ull * static_cast<quint64>(hp->n_layer) * static_cast<quint64>(m.n_ctx) *
                     static_cast<quint64>(hp->n_head_kv) * static_cast<quint64>(hp->head_dim) *
                     sizeof(float);
  m.available_bytes = available_memory_bytes();
  auto name = file.value()->get_string("general.name");
  m.model_name = name.ok() ? QString::fromStdString(name.value()) : QFileInfo(path).fileName();
  return m;
}

}  // namespace moe::ui
