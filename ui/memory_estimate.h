#pragma once
// Before a model loads: validate the file (the GGUF reader's checks) and estimate the memory it
// needs (weights file + KV cache) against what the system has free (/proc/meminfo).
#include <QString>

#include "core/util/status.h"

namespace moe::ui {

struct MemoryEstimate {
  quint64 weights_bytes = 0;    ///< the file (mapped; expert pages come in as they are used)
  quint64 kv_cache_bytes = 0;   ///< n_layer · n_ctx · n_kv_dim · 2 (K and V) · 4 bytes (f32)
  quint64 available_bytes = 0;  ///< MemAvailable; 0 when unknown
  int n_ctx = 0;
  QString model_name;
  quint64 total() const { return weights_bytes + kv_cache_bytes; }
  bool fits() const { return available_bytes == 0 || total() <= available_bytes; }
  QString describe() const;
};

/// Opens and validates `path` as a GGUF model; the error is the reader's message.
Result<MemoryEstimate> estimate_model_memory(const QString& path, int n_ctx);
/// MemAvailable from /proc/meminfo in bytes (0 if it cannot be read).
quint64 available_memory_bytes();

}  // namespace moe::ui
