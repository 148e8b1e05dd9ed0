#pragma once
// The forward pass of a Llama/Mixtral model over a KV cache: eval() takes the next tokens (a
// prefill batch or one decoded token) and leaves the logits. Per layer (shapes for a batch of
// T tokens):
//   xn = RMSNorm(x) * attn_norm                         [T, n_embd]
//   q, k, v = xn Wq^T, xn Wk^T, xn Wv^T; RoPE(q, k)     [T, n_head*hd], [T, n_head_kv*hd]
//   x += softmax(q k^T / sqrt(hd) + causal) v  Wo^T     grouped-query attention over the cache
//   xn = RMSNorm(x) * ffn_norm; router = xn Wr^T        [T, n_expert]
//   selector -> (token, expert, weight) assignments -> ExpertExecutor: x += Σ w · expert(xn)
// then logits = RMSNorm(x) * output_norm · Wout^T. All buffers are sized at creation.
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/engine_api/events.h"
#include "core/engine_api/expert_executor.h"
#include "core/engine_api/expert_selection.h"
#include "core/engine/kv_cache.h"
#include "core/engine/thread_pool.h"
#include "core/model/model.h"

namespace moe {

struct SessionOptions {
  int n_ctx = kDefaultContext;      ///< KV cache length (clamped to the model's training context)
  int max_batch = kDefaultMaxBatch;  ///< tokens per forward call; longer prompts are split
  KvType kv_type = KvType::kF32;  ///< F16 halves the cache (llama.cpp's default)
};

/// How experts are chosen at the next eval (the engine refreshes it once per step).
struct RoutingControl {
  ExpertSelector* selector = nullptr;  ///< null: the session's TopKSelector
  int k = 0;                           ///< experts per token; <= 0: the model's expert_used_count
  float theta = 0;
};

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(const Model& model, ThreadPool& pool,
                                                 ExpertExecutor& executor,
                                                 const SessionOptions& options);
  ~Session();

  /// Runs `tokens` at positions [pos(), pos() + n). all_logits: keep the logits of every token
  /// ([n, n_vocab]; needs n <= max_batch), else only of the last one. Errors: context full,
  /// token id out of range, executor failure (the cache position is then unchanged).
  Status eval(std::span<const int32_t> tokens, bool all_logits = false) {
    return eval(tokens, all_logits ? LogitsWanted::kAll : LogitsWanted::kLast);
  }
  /// kNone skips the LM head (a prompt chunk that is not the last one); logits() is then empty.
  enum class LogitsWanted { kLast, kAll, kNone };
  Status eval(std::span<const int32_t> tokens, LogitsWanted wanted);
  /// Logits of the last eval: [n_vocab], or [n, n_vocab] with all_logits.
  std::span<const float> logits() const { return {logits_.data(), logits_size_}; }
  std::span<float> mutable_logits() { return {logits_.data(), logits_size_}; }

  void reset() { pos_ = 0; }  ///< empty cache (start a new conversation)
  /// Keeps the first `pos` cached positions (<= pos()) and continues from there: their keys and
  /// values stay valid; later ones are overwritten by the next eval.
  void rewind(int pos) {
    MOE_CHECK(pos >= 0 && pos <= pos_, "Session::rewind past the cached positions");
    pos_ = pos;
  }
  int pos() const { return pos_; }
  int n_ctx() const { return n_ctx_; }
  int max_batch() const { return max_batch_; }
  const Model& model() const { return model_; }
  size_t kv_cache_bytes() const { return kv_.bytes(); }
  /// Bytes of the work buffers (everything but the KV cache), allocated at creation.
  uint64_t buffer_bytes() const;

  void set_routing(const RoutingControl& rc) { routing_ = rc; }
  void set_executor(ExpertExecutor& executor) { executor_ = &executor; }
  /// Speculative prefetch ([P1] §3.3, mixtral-offloading): during layer i, layer i+1's router
  /// is applied to layer i's FFN input and its top-k experts are passed to the executor's
  /// prefetch() before layer i's experts run. Off by default (one extra router matmul/layer).
  void set_prefetch(bool on) { prefetch_ = on; }
  /// Events go here (RoutingEvent, SelectionEvent, TimingEvent) when it has subscribers.
  void set_event_bus(EventBus* bus) { bus_ = bus; }
  uint64_t step() const { return step_; }  ///< forward calls so far (the next call's step id)

 private:
  Session(const Model& model, ThreadPool& pool, ExpertExecutor& executor, int n_ctx, int max_batch,
          KvType kv_type);
  Status eval_chunk(const int32_t* tokens, int n, LogitsWanted wanted);
  void attention(int il, int n, float* layer_out);
  Status moe_ffn(int il, int n);
  void route(int il, int n, bool publish);
  void predict_next(int il, int n);

  const Model& model_;
  ThreadPool& pool_;
  ExpertExecutor* executor_;
  EventBus* bus_ = nullptr;
  RoutingControl routing_;
  TopKSelector topk_;
  KvCache kv_;
  int n_ctx_, max_batch_, pos_ = 0;
  uint64_t step_ = 0;
  size_t logits_size_ = 0;

  // Work buffers, [max_batch, ...] unless noted.
  std::vector<float> x_, xn_, q_, attn_, router_, logits_;
  std::vector<float> k_stage_, v_stage_;  // [max_batch, n_kv] new K/V rows (F16 cache only)
  std::vector<float> scores_;             // [n_threads, n_head / n_head_kv, n_ctx]
  std::vector<uint8_t> act_;              // prepared activations, [max_batch, act bytes of n_embd]
  std::vector<float> rope_inv_freq_;      // [n_rot / 2]
  std::vector<float> rope_cs_;            // [n_threads, n_rot] cos/sin of ...
  std::vector<int> rope_cs_pos_;          // [n_threads] ... this position (-1: none yet)
  std::vector<ExpertAssignment> assign_, assign_sorted_;
  std::vector<int32_t> expert_count_;  // [n_expert + 1]
  int n_assign_ = 0;
  bool prefetch_ = false;
  std::vector<int32_t> predicted_;     // [n_expert] next layer's experts, most probable first
  std::vector<double> predict_score_;  // [n_expert]
};

}  // namespace moe
