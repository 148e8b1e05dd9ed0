#pragma once
// The memory plan of a model run (design §6): bytes of the non-expert weights, of each expert,
// of the KV cache for a context length and KV type, and of the compute buffers, computed in one
// place. The engine sizes its KV cache with it, the app's memory estimate shows it, and the
// offload planner will split expert bytes across tiers with it.
#include <cstddef>
#include <cstdint>

#include "core/model/hparams.h"

namespace moe {

class Model;

/// KV cache precision: F32 keeps the golden comparison exact; F16 (llama.cpp's default) halves
/// the memory of long contexts.
enum class KvType { kF32, kF16 };
const char* kv_type_name(KvType t);

/// The context length every front end uses unless told otherwise (clamped to the model's).
constexpr int kDefaultContext = 4096;
/// Tokens per forward call (longer prompts are split).
constexpr int kDefaultMaxBatch = 64;

/// Upper bound of the prepared-activation bytes of one row of n elements, any weight type
/// (F32 weights are dotted with F32 activations: 4 bytes per element).
inline size_t max_act_row_bytes(int64_t n) {
  return static_cast<size_t>(n) * sizeof(float);
}

/// n_ctx clamped to [1, the model's training context].
int clamp_context(const HParams& hp, int n_ctx);
/// K and V of every layer: n_layer * n_ctx * n_head_kv * head_dim * 2 * (4 or 2) bytes.
uint64_t kv_cache_bytes(const HParams& hp, int n_ctx, KvType type);

struct MemoryPlan {
  uint64_t non_expert_bytes = 0;  ///< embeddings, attention, norms, router, LM head
  uint64_t expert_bytes = 0;      ///< every expert of every layer
  uint64_t bytes_per_expert = 0;  ///< one expert of one layer (gate + up + down), the largest
  int n_layer = 0, n_expert = 0;
  int n_ctx = 0;                  ///< after clamping
  KvType kv_type = KvType::kF32;
  uint64_t kv_cache_bytes = 0;
  uint64_t compute_bytes = 0;  ///< the forward pass' and the CPU expert executor's work buffers
  /// What must stay in memory whatever the expert budget is.
  uint64_t resident_bytes() const { return non_expert_bytes + kv_cache_bytes + compute_bytes; }
  uint64_t total_bytes() const { return resident_bytes() + expert_bytes; }
};

/// The plan of `model` for a context, KV type, batch size and thread count.
MemoryPlan plan_memory(const Model& model, int n_ctx, KvType kv_type,
                       int max_batch = kDefaultMaxBatch, int n_threads = 1);

/// Work buffers of a Session / CpuExpertExecutor with these settings (the plan's
/// compute_bytes is their sum; each class reports its own allocation to check it).
uint64_t session_buffer_bytes(const HParams& hp, int n_ctx, KvType kv_type, int max_batch,
                              int n_threads);
uint64_t cpu_executor_buffer_bytes(const HParams& hp, int max_tokens, int n_threads);

}  // namespace moe
