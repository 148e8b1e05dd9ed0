#include "core/engine/session.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "core/engine/parallel_matmul.h"
#include "core/engine/session_ops.h"

namespace moe {
namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
}  // namespace

Result<std::unique_ptr<Session>> Session::create(const Model& model, ThreadPool& pool,
                                                 ExpertExecutor& executor,
                                                 const SessionOptions& options) {
  const HParams& hp = model.hparams();
  const int n_ctx = clamp_context(hp, options.n_ctx);
  const int max_batch = std::clamp(options.max_batch, 1, 4096);
  return std::unique_ptr<Session>(
      new Session(model, pool, executor, n_ctx, max_batch, options.kv_type));
}

Session::Session(const Model& model, ThreadPool& pool, ExpertExecutor& executor, int n_ctx,
                 int max_batch, KvType kv_type)
    : model_(model),
      pool_(pool),
      executor_(&executor),
      kv_(model.hparams().n_layer, n_ctx, model.hparams().n_head_kv * model.hparams().head_dim,
          kv_type),
      n_ctx_(n_ctx),
      max_batch_(max_batch) {
  const HParams& hp = model.hparams();
  const size_t B = static_cast<size_t>(max_batch);
  x_.resize(B * hp.n_embd);
  xn_.resize(B * hp.n_embd);
  q_.resize(B * hp.n_embd);
  attn_.resize(B * hp.n_embd);
  router_.resize(B * hp.n_expert);
  if (kv_type == KvType::kF16) {
    k_stage_.resize(B * static_cast<size_t>(kv_.n_kv_dim()));
    v_stage_.resize(k_stage_.size());
  }
  logits_.resize(B * hp.n_vocab);
  scores_.resize(static_cast<size_t>(pool.size()) * (hp.n_head / hp.n_head_kv) * n_ctx);
  act_.resize(B * max_act_row_bytes(hp.n_embd));
  // RoPE frequencies θ_i = base^(-2i / n_rot), i < n_rot / 2 (GGML_ROPE_TYPE_NORM).
  rope_inv_freq_.resize(static_cast<size_t>(hp.n_rot / 2));
  for (int i = 0; i < hp.n_rot / 2; ++i) {
    rope_inv_freq_[static_cast<size_t>(i)] = static_cast<float>(
        1.0 / std::pow(static_cast<double>(hp.rope_freq_base), 2.0 * i / hp.n_rot));
  }
  rope_cs_.resize(static_cast<size_t>(pool.size()) * std::max(2, hp.n_rot));
  rope_cs_pos_.assign(static_cast<size_t>(pool.size()), -1);
  const size_t max_assign = B * static_cast<size_t>(std::min(hp.n_expert, kMaxExpertsUsed));
  assign_.resize(max_assign);
  assign_sorted_.resize(max_assign);
  expert_count_.resize(static_cast<size_t>(hp.n_expert) + 1);
  predicted_.reserve(static_cast<size_t>(hp.n_expert));
  predict_score_.reserve(static_cast<size_t>(hp.n_expert));
}

Session::~Session() = default;

// The memory plan (core/model/memory_plan.cpp) mirrors these buffers; a test compares the two.
static_assert(kMaxExpertsUsed == 8 && sizeof(ExpertAssignment) == 12);
uint64_t Session::buffer_bytes() const {
  const auto f = [](const auto& v) { return static_cast<uint64_t>(v.size() * sizeof(v[0])); };
  return f(x_) + f(xn_) + f(q_) + f(attn_) + f(router_) + f(logits_) + f(k_stage_) +
         f(v_stage_) + f(scores_) + f(act_) + f(rope_inv_freq_) + f(rope_cs_) + f(rope_cs_pos_) +
         f(assign_) + f(assign_sorted_) + f(expert_count_);
}

Status Session::eval(std::span<const int32_t> tokens, LogitsWanted wanted) {
  const bool all_logits = wanted == LogitsWanted::kAll;
  const int n = static_cast<int>(tokens.size());
  const int n_vocab = model_.hparams().n_vocab;
  if (n == 0) return make_error("eval: no tokens");
  for (int32_t t : tokens) {
    if (t < 0 || t >= n_vocab) {
      return make_error("eval: token id ", std::to_string(t), " is outside the vocabulary (",
                        std::to_string(n_vocab), " tokens)");
    }
  }
  if (pos_ + n > n_ctx_) {
    return make_error("context full: ", std::to_string(pos_), " + ", std::to_string(n),
                      " tokens exceed the context of ", std::to_string(n_ctx_), " tokens");
  }
  if (all_logits && n > max_batch_) {
    return make_error("eval: all_logits needs at most ", std::to_string(max_batch_), " tokens");
  }
  const int start = pos_;
  for (int i = 0; i < n; i += max_batch_) {
    const int m = std::min(max_batch_, n - i);
    // Only the last chunk needs the LM head (unless every token's logits are wanted).
    const LogitsWanted w = i + m == n ? wanted : LogitsWanted::kNone;
    Status s = eval_chunk(tokens.data() + i, m, w);
    if (!s.ok()) {
      pos_ = start;
      return s;
    }
  }
  return {};
}

Status Session::eval_chunk(const int32_t* tokens, int n, LogitsWanted wanted) {
  const HParams& hp = model_.hparams();
  const size_t E = static_cast<size_t>(hp.n_embd);
  const auto t_start = Clock::now();
  const bool publish = bus_ != nullptr && bus_->has_subscribers();
  TimingEvent timing;
  timing.step = step_;
  timing.phase = n > 1 ? StepPhase::kPrefill : StepPhase::kDecode;
  timing.n_tokens = n;
  timing.n_layer = static_cast<int16_t>(std::min<int>(hp.n_layer, 64));
  const LoadWait wait0 = executor_->load_wait();

  // Embedding rows, dequantized from the table (any type).
  pool_.parallel_for(n, [&](int64_t t, int) {
    const MatrixView& emb = model_.tok_embd();
    ops::dequantize_matrix_row(emb, tokens[t], x_.data() + static_cast<size_t>(t) * E);
  });

  for (int il = 0; il < hp.n_layer; ++il) {
    const auto t_layer = Clock::now();
    attention(il, n, xn_.data());
    for (size_t i = 0; i < static_cast<size_t>(n) * E; ++i) x_[i] += xn_[i];  // residual
    const auto t_ffn = Clock::now();
    timing.attention_s += std::chrono::duration<double>(t_ffn - t_layer).count();
    route(il, n, publish);
    if (prefetch_ && il + 1 < hp.n_layer) predict_next(il, n);
    MOE_TRY(moe_ffn(il, n));  // x += Σ w · expert(xn)
    timing.experts_s += seconds_since(t_ffn);
    if (il < 64)
      timing.layer_ms[static_cast<size_t>(il)] = static_cast<float>(seconds_since(t_layer) * 1e3);
  }

  // Output norm and LM head for the rows whose logits are wanted.
  const auto t_head = Clock::now();
  logits_size_ = 0;
  if (wanted != LogitsWanted::kNone) {
    const bool all = wanted == LogitsWanted::kAll;
    const int first = all ? 0 : n - 1, rows = all ? n : 1;
    for (int r = 0; r < rows; ++r) {
      ops::rms_norm(x_.data() + static_cast<size_t>(first + r) * E, model_.output_norm().data(),
                    hp.rms_eps, hp.n_embd, xn_.data() + static_cast<size_t>(r) * E);
    }
    const MatrixView& out = model_.output();
    const size_t sa = max_act_row_bytes(hp.n_embd);
    quantize_rows(pool_, out.type, xn_.data(), E, rows, hp.n_embd, act_.data(), sa);
    parallel_matmul(pool_, out, act_.data(), sa, rows, logits_.data(),
                    static_cast<size_t>(hp.n_vocab));
    logits_size_ = static_cast<size_t>(rows) * hp.n_vocab;
  }
  timing.head_s = seconds_since(t_head);
  timing.total_s = seconds_since(t_start);
  const LoadWait wait1 = executor_->load_wait();
  timing.predicted_load_s = wait1.predicted_s - wait0.predicted_s;
  timing.measured_load_s = wait1.measured_s - wait0.measured_s;

  pos_ += n;
  if (publish) bus_->publish(timing);
  ++step_;
  return {};
}

}  // namespace moe
