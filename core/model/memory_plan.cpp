#include "core/model/memory_plan.h"

#include <algorithm>

#include "core/model/model.h"

namespace moe {
namespace {

// Mirrors kMaxExpertsUsed (core/engine_api/expert_selection.h) and the executor's sub-block
// rows; the memory-plan test checks the sums against the classes' own allocations.
constexpr uint64_t kMaxK = 8;
constexpr uint64_t kExecutorSubRows = 32;
constexpr uint64_t kAssignmentBytes = 12;  // sizeof(ExpertAssignment)

uint64_t max_assign(const HParams& hp, int max_tokens) {
  return static_cast<uint64_t>(std::max(1, max_tokens)) *
         std::min<uint64_t>(static_cast<uint64_t>(hp.n_expert), kMaxK);
}

int expert_ff(const HParams& hp) {
  return hp.moe ? hp.n_expert_ff : hp.n_ff;
}

}  // namespace

const char* kv_type_name(KvType t) {
  return t == KvType::kF16 ? "F16" : "F32";
}

int clamp_context(const HParams& hp, int n_ctx) {
  return std::clamp(n_ctx, 1, std::max(1, hp.n_ctx_train));
}

uint64_t kv_cache_bytes(const HParams& hp, int n_ctx, KvType type) {
  const uint64_t elem = type == KvType::kF16 ? 2 : 4;
  return 2 * static_cast<uint64_t>(hp.n_layer) * static_cast<uint64_t>(std::max(n_ctx, 0)) *
         static_cast<uint64_t>(hp.n_head_kv) * static_cast<uint64_t>(hp.head_dim) * elem;
}

uint64_t session_buffer_bytes(const HParams& hp, int n_ctx, KvType kv_type, int max_batch,
                              int n_threads) {
  const uint64_t B = static_cast<uint64_t>(std::clamp(max_batch, 1, 4096));
  const uint64_t T = static_cast<uint64_t>(std::max(n_threads, 1));
  const uint64_t n_kv = static_cast<uint64_t>(hp.n_head_kv) * hp.head_dim;
  const uint64_t group = hp.n_head_kv > 0 ? static_cast<uint64_t>(hp.n_head / hp.n_head_kv) : 1;
  uint64_t floats = B * (4 * static_cast<uint64_t>(hp.n_embd) + hp.n_expert + hp.n_vocab);
  if (kv_type == KvType::kF16) floats += 2 * B * n_kv;       // K/V staging rows
  floats += T * group * static_cast<uint64_t>(clamp_context(hp, n_ctx));  // attention scores
  floats += static_cast<uint64_t>(hp.n_rot / 2) + T * std::max(2, hp.n_rot);  // RoPE tables
  const uint64_t act = B * max_act_row_bytes(hp.n_embd);
  const uint64_t assign = 2 * max_assign(hp, static_cast<int>(B)) * kAssignmentBytes;
  const uint64_t ints = (static_cast<uint64_t>(hp.n_expert) + 1 + T) * 4;
  return floats * 4 + act + assign + ints;
}

uint64_t cpu_executor_buffer_bytes(const HParams& hp, int max_tokens, int n_threads) {
  const uint64_t M = static_cast<uint64_t>(std::max(1, max_tokens));
  const uint64_t A = max_assign(hp, max_tokens);
  const uint64_t n_ff = static_cast<uint64_t>(expert_ff(hp));
  const uint64_t sx = max_act_row_bytes(hp.n_embd), sh = max_act_row_bytes(expert_ff(hp));
  const uint64_t act = 2 * sx * M + 2 * sx * A + sh * A;
  const uint64_t floats = A * n_ff + A * static_cast<uint64_t>(hp.n_embd) +
                          static_cast<uint64_t>(std::max(n_threads, 1)) *
                              std::max(M * kExecutorSubRows, n_ff);
  return act + floats * 4 + A * 12;  // + the group list (3 x int32 per group)
}

MemoryPlan plan_memory(const Model& model, int n_ctx, KvType kv_type, int max_batch,
                       int n_threads) {
  const HParams& hp = model.hparams();
  MemoryPlan p;
  p.non_expert_bytes = model.non_expert_bytes();
  p.expert_bytes = model.expert_bytes();
  p.n_layer = hp.n_layer;
  p.n_expert = hp.n_expert;
  for (int il = 0; il < model.n_layer(); ++il) {
    for (const ExpertWeights& e : model.layer(il).experts) {
      p.bytes_per_expert = std::max(p.bytes_per_expert, e.bytes());
    }
  }
  p.n_ctx = clamp_context(hp, n_ctx);
  p.kv_type = kv_type;
  p.kv_cache_bytes = kv_cache_bytes(hp, p.n_ctx, kv_type);
  p.compute_bytes = session_buffer_bytes(hp, p.n_ctx, kv_type, max_batch, n_threads) +
                    cpu_executor_buffer_bytes(hp, max_batch, n_threads);
  return p;
}

}  // namespace moe
