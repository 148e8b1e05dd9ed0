#pragma once
// Before a model loads: validate the file (the GGUF reader's checks) and estimate the memory it
// needs (weights file + KV cache) against what the system has free (/proc/meminfo).
#include <QString>

#include "core/model/memory_plan.h"
#include "core/util/status.h"

namespace moe::ui {

struct MemoryEstimate {
  quint64 weights_bytes = 0;    ///< the file (mapped; expert pages come in as they are used)
  quint64 kv_cache_bytes = 0;   ///< the memory plan's (core/model/memory_plan.h), F16 or F32
  quint64 compute_bytes = 0;    ///< work buffers (memory plan)
  QString kv_type;
  quint64 available_bytes = 0;  ///< MemAvailable; 0 when unknown
  int n_ctx = 0;
  QString model_name;
  quint64 total() const { return weights_bytes + kv_cache_bytes + compute_bytes; }
  bool fits() const { return available_bytes == 0 || total() <= available_bytes; }
  QString describe() const;
};

/// Opens and validates `path` as a GGUF model (the loader's checks, no weights paged in) and
/// takes the figures from its memory plan; the error is the loader's message.
Result<MemoryEstimate> estimate_model_memory(const QString& path, int n_ctx, KvType kv_type);
/// MemAvailable from /proc/meminfo in bytes (0 if it cannot be read).
quint64 available_memory_bytes();

}  // namespace moe::ui
