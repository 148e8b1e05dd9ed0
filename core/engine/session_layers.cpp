// The per-layer halves of Session: attention over the KV cache, routing, the MoE FFN.
#include <algorithm>
#include <cmath>

#include "core/engine/attention_kernels.h"
#include "core/engine/parallel_matmul.h"
#include "core/engine/session.h"
#include "core/engine/session_ops.h"

namespace moe {
namespace {

// What a selector sees for one token at `layer`: routing now (route()) and the prediction of
// the next layer's choice for prefetch (predict_next()) ask the same question.
SelectionInput selection_input(uint64_t step, int32_t pos, int layer, std::span<const float> logits,
                               int k, float theta) {
  SelectionInput in;
  in.step = step;
  in.pos = pos;
  in.layer = layer;
  in.logits = logits;
  in.k = k;
  in.theta = theta;
  return in;
}

}  // namespace

// x_ [n, n_embd] -> layer_out [n, n_embd] = attention output projected by Wo (not yet added).
void Session::attention(int il, int n, float* layer_out) {
  const HParams& hp = model_.hparams();
  const LayerWeights& L = model_.layer(il);
  const int E = hp.n_embd, hd = hp.head_dim, n_kv = hp.n_head_kv * hd;
  const size_t sa = max_act_row_bytes(E);

  for (int t = 0; t < n; ++t) {
    ops::rms_norm(x_.data() + static_cast<size_t>(t) * E, L.attn_norm.data(), hp.rms_eps, E,
                  xn_.data() + static_cast<size_t>(t) * E);
  }
  // Q, K, V projections, one dispatch when they share a dot type (K and V straight into the
  // cache rows pos_..pos_+n-1); else one per distinct activation format.
  const bool f16 = kv_.type() == KvType::kF16;
  float* k_new = f16 ? k_stage_.data() : kv_.k32(il, pos_);  // [n, n_kv]
  float* v_new = f16 ? v_stage_.data() : kv_.v32(il, pos_);
  const MatmulJob jobs[3] = {{&L.wq, q_.data(), static_cast<size_t>(E)},
                             {&L.wk, k_new, static_cast<size_t>(n_kv)},
                             {&L.wv, v_new, static_cast<size_t>(n_kv)}};
  const GgmlType dq = vec_dot_type(L.wq.type);
  if (vec_dot_type(L.wk.type) == dq && vec_dot_type(L.wv.type) == dq) {
    quantize_rows(pool_, L.wq.type, xn_.data(), static_cast<size_t>(E), n, E, act_.data(), sa);
    parallel_matmuls(pool_, jobs, act_.data(), sa, n);
  } else {
    for (const MatmulJob& j : jobs) {
      quantize_rows(pool_, j.w->type, xn_.data(), static_cast<size_t>(E), n, E, act_.data(), sa);
      parallel_matmul(pool_, *j.w, act_.data(), sa, n, j.out, j.out_stride);
    }
  }

  // RoPE on q and the new k rows (the cache keeps rotated keys). The angles depend only on the
  // position: each thread keeps those of the last position it rotated, so a decode step
  // computes its n_rot / 2 cos/sin pairs once, not twice per layer.
  pool_.parallel_for(n, [&](int64_t t, int thread) {
    float* cs = rope_cs_.data() + static_cast<size_t>(thread) * hp.n_rot;
    const int p = pos_ + static_cast<int>(t);
    int& cached = rope_cs_pos_[static_cast<size_t>(thread)];
    if (cached != p) {
      ops::rope_angles(rope_inv_freq_.data(), hp.rope_freq_scale, p, hp.n_rot, cs);
      cached = p;
    }
    ops::rope_apply(q_.data() + static_cast<size_t>(t) * E, hp.n_head, hd, hp.n_rot, cs);
    ops::rope_apply(k_new + static_cast<size_t>(t) * n_kv, hp.n_head_kv, hd, hp.n_rot, cs);
  });

  if (f16) {  // the new rows go into the cache in half precision
    const attn::Kernels& kk = attn::kernels();
    for (int t = 0; t < n; ++t) {
      kk.to_f16(k_new + static_cast<size_t>(t) * n_kv, kv_.k16(il, pos_ + t), n_kv);
      kk.to_f16(v_new + static_cast<size_t>(t) * n_kv, kv_.v16(il, pos_ + t), n_kv);
    }
  }

  // softmax(q k^T / sqrt(hd)) v; token t sees cache positions [0, pos_+t]. A task takes g of
  // the query heads that share one KV head (adjacent in q), so each cached row is read once for
  // all g; the group is split only when there would be fewer tasks than threads.
  const int group = hp.n_head / hp.n_head_kv;
  int split = 1;
  while (split < group && int64_t{n} * hp.n_head_kv * split < pool_.size()) split *= 2;
  while (group % split != 0) --split;
  const int g = group / split;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const int64_t n_tasks = int64_t{n} * hp.n_head_kv * split;
  pool_.parallel_for(n_tasks, [&](int64_t task, int thread) {
    const int t = static_cast<int>(task / (int64_t{hp.n_head_kv} * split));
    const int rest = static_cast<int>(task % (int64_t{hp.n_head_kv} * split));
    const int kvh = rest / split, h0 = kvh * group + (rest % split) * g;
    const int n_pos = pos_ + t + 1;
    const size_t off = static_cast<size_t>(t) * E + static_cast<size_t>(h0) * hd;
    float* s = scores_.data() + static_cast<size_t>(thread) * group * n_ctx_;  // [g, n_ctx]
    const size_t ss = static_cast<size_t>(n_ctx_), stride = static_cast<size_t>(n_kv);
    const attn::Kernels& kk = attn::kernels();
    if (f16) {
      kk.f16.scores(q_.data() + off, g, kv_.k16(il, 0) + kvh * hd, stride, n_pos, hd, scale, s, ss);
    } else {
      kk.f32.scores(q_.data() + off, g, kv_.k32(il, 0) + kvh * hd, stride, n_pos, hd, scale, s, ss);
    }
    for (int h = 0; h < g; ++h) ops::softmax(s + static_cast<size_t>(h) * ss, n_pos);
    if (f16) {
      kk.f16.mix(s, ss, g, kv_.v16(il, 0) + kvh * hd, stride, n_pos, hd, attn_.data() + off);
    } else {
      kk.f32.mix(s, ss, g, kv_.v32(il, 0) + kvh * hd, stride, n_pos, hd, attn_.data() + off);
    }
  });

  quantize_rows(pool_, L.wo.type, attn_.data(), static_cast<size_t>(E), n, E, act_.data(), sa);
  parallel_matmul(pool_, L.wo, act_.data(), sa, n, layer_out, static_cast<size_t>(E));
}

// xn_ = RMSNorm(x_) * ffn_norm; router logits; selection -> assign_sorted_ grouped by expert.
void Session::route(int il, int n, bool publish) {
  const HParams& hp = model_.hparams();
  const LayerWeights& L = model_.layer(il);
  const int E = hp.n_embd, n_expert = hp.n_expert;
  for (int t = 0; t < n; ++t) {
    ops::rms_norm(x_.data() + static_cast<size_t>(t) * E, L.ffn_norm.data(), hp.rms_eps, E,
                  xn_.data() + static_cast<size_t>(t) * E);
  }
  n_assign_ = 0;
  if (!hp.moe) {  // dense Llama: the one FFN with weight 1
    for (int t = 0; t < n; ++t) assign_sorted_[static_cast<size_t>(t)] = {t, 0, 1.0f};
    n_assign_ = n;
    return;
  }
  const size_t sa = max_act_row_bytes(E);
  quantize_rows(pool_, L.router.type, xn_.data(), static_cast<size_t>(E), n, E, act_.data(), sa);
  parallel_matmul(pool_, L.router, act_.data(), sa, n, router_.data(),
                  static_cast<size_t>(n_expert));

  ExpertSelector* selector = routing_.selector ? routing_.selector : &topk_;
  const int k_max = std::min(n_expert, kMaxExpertsUsed);
  const int k = std::clamp(routing_.k > 0 ? routing_.k : hp.n_expert_used, 1, k_max);
  std::fill(expert_count_.begin(), expert_count_.end(), 0);
  for (int t = 0; t < n; ++t) {
    const SelectionInput in = selection_input(
        step_, pos_ + t, il,
        {router_.data() + static_cast<size_t>(t) * n_expert, static_cast<size_t>(n_expert)}, k,
        routing_.theta);
    ExpertSelection sel;
    SelectionEvent sev;
    const bool described = selector->select(in, sel, publish ? &sev : nullptr);
    sel.n = std::clamp(sel.n, 0, k_max);
    for (int j = 0; j < sel.n; ++j) {
      const int32_t e = std::clamp(sel.experts[static_cast<size_t>(j)], 0, n_expert - 1);
      assign_[static_cast<size_t>(n_assign_++)] = {t, e, sel.weights[static_cast<size_t>(j)]};
      ++expert_count_[static_cast<size_t>(e) + 1];
    }
    if (publish) {
      RoutingEvent ev;
      ev.step = step_;
      ev.pos = pos_ + t;
      ev.layer = static_cast<int16_t>(il);
      ev.n_expert = static_cast<int16_t>(std::min(n_expert, kMaxEventExperts));
      for (int e = 0; e < ev.n_expert; ++e)
        ev.logits[static_cast<size_t>(e)] = in.logits[static_cast<size_t>(e)];
      ev.n_chosen = static_cast<int16_t>(std::min(sel.n, kMaxEventK));
      for (int j = 0; j < ev.n_chosen; ++j) {
        ev.chosen[static_cast<size_t>(j)] =
            static_cast<int16_t>(sel.experts[static_cast<size_t>(j)]);
        ev.weights[static_cast<size_t>(j)] = sel.weights[static_cast<size_t>(j)];
      }
      bus_->publish(ev);
      if (described) {
        sev.step = step_;
        sev.pos = pos_ + t;
        sev.layer = static_cast<int16_t>(il);
        bus_->publish(sev);
      }
    }
  }
  // Counting sort by expert (stable: tokens ascending within a group).
  for (int e = 0; e < n_expert; ++e)
    expert_count_[static_cast<size_t>(e) + 1] += expert_count_[static_cast<size_t>(e)];
  for (int i = 0; i < n_assign_; ++i) {
    const ExpertAssignment& a = assign_[static_cast<size_t>(i)];
    assign_sorted_[static_cast<size_t>(expert_count_[static_cast<size_t>(a.expert)]++)] = a;
  }
}

// Layer il+1's router on layer il's FFN input xn_ (a proxy for layer il+1's, as in
// mixtral-offloading): router_ [n, n_expert] is free again once route() has chosen. The
// prediction is the top-k of the single token (decode), or the experts most often in a
// token's top-k (prefill, ties to the larger logit sum); passed on to the executor's store.
void Session::predict_next(int il, int n) {
  const HParams& hp = model_.hparams();
  if (!hp.moe) return;
  const LayerWeights& cur = model_.layer(il);
  const LayerWeights& next = model_.layer(il + 1);
  const int E = hp.n_embd, n_expert = hp.n_expert;
  const size_t sa = max_act_row_bytes(E);
  if (vec_dot_type(next.router.type) != vec_dot_type(cur.router.type)) {
    quantize_rows(pool_, next.router.type, xn_.data(), static_cast<size_t>(E), n, E, act_.data(),
                  sa);
  }
  parallel_matmul(pool_, next.router, act_.data(), sa, n, router_.data(),
                  static_cast<size_t>(n_expert));
  const int k = std::clamp(routing_.k > 0 ? routing_.k : hp.n_expert_used, 1,
                           std::min(n_expert, kMaxExpertsUsed));
  // score = (times in a token's top-k) * big + logit sum; one token: its logits.
  std::vector<double>& score = predict_score_;
  score.assign(static_cast<size_t>(n_expert), 0.0);
  predicted_.resize(static_cast<size_t>(n_expert));
  for (int t = 0; t < n; ++t) {
    const float* l = router_.data() + static_cast<size_t>(t) * n_expert;
    for (int e = 0; e < n_expert; ++e) predicted_[static_cast<size_t>(e)] = e;
    std::partial_sort(predicted_.begin(), predicted_.begin() + k, predicted_.end(),
                      [l](int32_t a, int32_t b) { return l[a] > l[b] || (l[a] == l[b] && a < b); });
    for (int j = 0; j < k; ++j)
      score[static_cast<size_t>(predicted_[static_cast<size_t>(j)])] += 1e6;
    for (int e = 0; e < n_expert; ++e) score[static_cast<size_t>(e)] += l[e];
  }
  for (int e = 0; e < n_expert; ++e) predicted_[static_cast<size_t>(e)] = e;
  std::partial_sort(
      predicted_.begin(), predicted_.begin() + k, predicted_.end(), [&score](int32_t a, int32_t b) {
        return score[static_cast<size_t>(a)] > score[static_cast<size_t>(b)] ||
               (score[static_cast<size_t>(a)] == score[static_cast<size_t>(b)] && a < b);
      });
  int n_prefetch = k;
  if (n == 1 && routing_.selector != nullptr && routing_.theta > 0) {
    // Read ahead only what the θ rule would keep of the prediction: with tier-aware
    // selection a low-weight expert that needs a disk read is left out, so reading it ahead
    // is a wasted read that holds the disk against the demand loads (docs/offloading.md).
    ExpertSelection sel;
    routing_.selector->select(selection_input(step_, pos_, il + 1,
                                              {router_.data(), static_cast<size_t>(n_expert)}, k,
                                              routing_.theta),
                              sel, nullptr);
    n_prefetch = std::clamp(sel.n, 0, k);
    for (int j = 0; j < n_prefetch; ++j)
      predicted_[static_cast<size_t>(j)] = sel.experts[static_cast<size_t>(j)];
  }
  executor_->prefetch(il + 1, {predicted_.data(), static_cast<size_t>(n_prefetch)});
}

Status Session::moe_ffn(int il, int n) {
  ExpertBatch b;
  b.step = step_;
  b.layer = il;
  b.n_tokens = n;
  b.n_embd = model_.hparams().n_embd;
  b.x = xn_.data();
  b.out = x_.data();
  b.assignments = {assign_sorted_.data(), static_cast<size_t>(n_assign_)};
  return executor_->run(b);
}

}  // namespace moe
