#include "core/engine/cpu_expert_executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "core/engine/parallel_matmul.h"
#include "core/engine/session_ops.h"
#include "core/quant/quant.h"

namespace moe {
namespace {

constexpr int64_t kSub = 32;  // rows of gate/up per sub-block (~72 KiB of Q4_K at n_embd 4096)

}  // namespace

Result<std::unique_ptr<CpuExpertExecutor>> CpuExpertExecutor::create(const Model& model,
                                                                     ExpertStore& store,
                                                                     ThreadPool& pool,
                                                                     int max_tokens) {
  for (int il = 0; il < model.n_layer(); ++il) {
    const auto& ex = model.layer(il).experts;
    for (const auto& e : ex) {
      if (e.gate.type != ex[0].gate.type || e.up.type != ex[0].up.type ||
          e.down.type != ex[0].down.type) {
        return make_error(model.file().path(), ": the experts of layer ", std::to_string(il),
                          " mix weight types; the CPU executor needs one type per projection");
      }
    }
  }
  return std::unique_ptr<CpuExpertExecutor>(
      new CpuExpertExecutor(model, store, pool, max_tokens));
}

CpuExpertExecutor::CpuExpertExecutor(const Model& model, ExpertStore& store, ThreadPool& pool,
                                     int max_tokens)
    : model_(model), store_(store), pool_(pool), max_tokens_(std::max(1, max_tokens)) {
  const HParams& hp = model.hparams();
  const int n_ff = model.layer(0).experts[0].gate.n_out;
  max_assign_ = max_tokens_ * std::min(hp.n_expert, kMaxExpertsUsed);
  act_x_stride_ = max_act_row_bytes(hp.n_embd);
  act_h_stride_ = max_act_row_bytes(n_ff);
  act_x_.resize(act_x_stride_ * static_cast<size_t>(max_tokens_));
  act_x2_.resize(act_x_.size());
  act_g_.resize(act_x_stride_ * static_cast<size_t>(max_assign_));
  act_g2_.resize(act_g_.size());
  act_h_.resize(act_h_stride_ * static_cast<size_t>(max_assign_));
  h_.resize(static_cast<size_t>(max_assign_) * n_ff);
  y_.resize(static_cast<size_t>(max_assign_) * hp.n_embd);
  // A decode token's gate/up run as one sub-block of all its rows (below): room for n_ff.
  up_stride_ = std::max(static_cast<size_t>(max_tokens_) * kSub, static_cast<size_t>(n_ff));
  up_scratch_.resize(static_cast<size_t>(pool.size()) * up_stride_);
  groups_.reserve(static_cast<size_t>(max_assign_));
  views_.reserve(static_cast<size_t>(max_assign_));
  group_experts_.reserve(static_cast<size_t>(max_assign_));
}

uint64_t CpuExpertExecutor::buffer_bytes() const {
  const auto f = [](const auto& v) { return static_cast<uint64_t>(v.size() * sizeof(v[0])); };
  return f(act_x_) + f(act_x2_) + f(act_g_) + f(act_g2_) + f(act_h_) + f(h_) + f(y_) +
         f(up_scratch_) + static_cast<uint64_t>(groups_.capacity() * sizeof(Group));
}

void CpuExpertExecutor::release_all(int layer) {
  for (size_t i = 0; i < views_.size(); ++i) store_.release(layer, groups_[i].expert);
  views_.clear();
}

Status CpuExpertExecutor::run(const ExpertBatch& b) {
  if (b.layer < 0 || b.layer >= model_.n_layer() || b.n_embd != model_.hparams().n_embd) {
    return make_error("CPU expert executor: layer ", std::to_string(b.layer), " / n_embd ",
                      std::to_string(b.n_embd), " do not match the model");
  }
  const auto& L = model_.layer(b.layer);
  const int n_assign = static_cast<int>(b.assignments.size());
  if (b.n_tokens > max_tokens_ || n_assign > max_assign_) {
    return make_error("CPU expert executor: batch of ", std::to_string(b.n_tokens), " tokens / ",
                      std::to_string(n_assign), " assignments exceeds its buffers");
  }
  if (n_assign == 0) return {};
  groups_.clear();
  for (int i = 0; i < n_assign; ++i) {
    const ExpertAssignment& a = b.assignments[static_cast<size_t>(i)];
    if (a.expert < 0 || a.expert >= static_cast<int>(L.experts.size()) || a.token < 0 ||
        a.token >= b.n_tokens) {
      return make_error("CPU expert executor: assignment (token ", std::to_string(a.token),
                        ", expert ", std::to_string(a.expert), ") out of range");
    }
    if (groups_.empty() || groups_.back().expert != a.expert) groups_.push_back({a.expert, i, i});
    groups_.back().end = i + 1;
  }
  // Every group's weights from the store, before any task starts (one call: a store with a
  // disk tier reads the misses in parallel); released on every path out.
  views_.clear();
  group_experts_.clear();
  for (const Group& g : groups_) group_experts_.push_back(g.expert);
  views_.resize(groups_.size());
  // The latency model's prediction before the loads start, then the wait it predicts.
  load_wait_.predicted_s += store_.predict_load_s(b.layer, group_experts_);
  const auto t_acquire = std::chrono::steady_clock::now();
  const Status acquired = store_.acquire_many(b.layer, group_experts_, views_);
  load_wait_.measured_s +=
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_acquire).count();
  ++load_wait_.calls;
  if (!acquired.ok()) {
    views_.clear();
    return acquired;
  }
  for (const ExpertView& v : views_) {
    const ExpertWeights& w = *v.weights;
    const ExpertWeights& first = *views_[0].weights;
    if (w.gate.type != first.gate.type || w.up.type != first.up.type ||
        w.down.type != first.down.type || w.gate.n_out != first.gate.n_out) {
      release_all(b.layer);
      return make_error("CPU expert executor: the store served experts of layer ",
                        std::to_string(b.layer), " in mixed weight types");
    }
  }
  struct ReleaseAtEnd {
    CpuExpertExecutor* self;
    int layer;
    ~ReleaseAtEnd() { self->release_all(layer); }
  } release_at_end{this, b.layer};
  const ExpertWeights& e0 = *views_[0].weights;
  const int64_t n_embd = b.n_embd, n_ff = e0.gate.n_out;
  const size_t sx = act_x_stride_, sh = act_h_stride_;

  // (1) FFN inputs, quantized once per token for the gate and (if different) up dot type.
  quantize_rows(pool_, e0.gate.type, b.x, static_cast<size_t>(n_embd), b.n_tokens, n_embd,
                act_x_.data(), sx);
  const bool same_up = vec_dot_type(e0.up.type) == vec_dot_type(e0.gate.type);
  if (!same_up) {
    quantize_rows(pool_, e0.up.type, b.x, static_cast<size_t>(n_embd), b.n_tokens, n_embd,
                  act_x2_.data(), sx);
  }
  const uint8_t* act_up = same_up ? act_x_.data() : act_x2_.data();

  // Gather: the prepared input row of every assignment, contiguous per group, so that each
  // group is a plain [n, n_embd] activation matrix for matmul_rows.
  const size_t gate_bytes = row_bytes(vec_dot_type(e0.gate.type), n_embd);
  const size_t up_bytes = row_bytes(vec_dot_type(e0.up.type), n_embd);
  for (int i = 0; i < n_assign; ++i) {
    const size_t tok = static_cast<size_t>(b.assignments[static_cast<size_t>(i)].token);
    std::memcpy(act_g_.data() + static_cast<size_t>(i) * sx, act_x_.data() + tok * sx, gate_bytes);
    if (!same_up) {
      std::memcpy(act_g2_.data() + static_cast<size_t>(i) * sx, act_up + tok * sx, up_bytes);
    }
  }
  const uint8_t* g_up = same_up ? act_g_.data() : act_g2_.data();

  // (2) h = silu(gate x) * up x over rows [r0, r1) of n_ff for group g: walked in sub-blocks
  // of kSub rows that stay in cache while every token of the group passes; one token takes
  // all its rows as one sub-block (two long row streams: kernels that rearrange the activation
  // for their weight layout, AVX-512 Q4_0 and Q4_K, do it once per call, and once per 32 rows
  // was ~7 % of a decode step; up_stride_ has room for n_ff rows).
  const int n_groups = static_cast<int>(groups_.size());
  const auto gate_up = [&](const Group& g, int64_t r0, int64_t r1, int thread) {
    const ExpertWeights& ew = *views_[static_cast<size_t>(&g - groups_.data())].weights;
    const int64_t n = g.end - g.begin;
    float* up = up_scratch_.data() + static_cast<size_t>(thread) * up_stride_;
    float* h0 = h_.data() + static_cast<size_t>(g.begin) * n_ff;
    const uint8_t* ag = act_g_.data() + static_cast<size_t>(g.begin) * sx;
    const uint8_t* au = g_up + static_cast<size_t>(g.begin) * sx;
    const int64_t sub = n == 1 ? std::max<int64_t>(r1 - r0, 1) : kSub;
    for (int64_t s0 = r0; s0 < r1; s0 += sub) {
      const int64_t s1 = std::min(r1, s0 + sub);
      matmul_rows(ew.gate.type, ew.gate.data, ew.gate.row_stride, n_embd, s0, s1, ag, sx, n,
                  h0 + s0, static_cast<size_t>(n_ff));
      matmul_rows(ew.up.type, ew.up.data, ew.up.row_stride, n_embd, s0, s1, au, sx, n, up,
                  static_cast<size_t>(kSub));
      for (int64_t t = 0; t < n; ++t) {
        float* h = h0 + t * n_ff;
        const float* u = up + t * kSub - s0;
        for (int64_t r = s0; r < s1; ++r) h[r] = ops::silu(h[r]) * u[r];
      }
    }
  };
  // (4) y = down h over rows [r0, r1) of n_embd for group g.
  const auto down = [&](const Group& g, int64_t r0, int64_t r1) {
    const MatrixView& dw = views_[static_cast<size_t>(&g - groups_.data())].weights->down;
    matmul_rows(dw.type, dw.data, dw.row_stride, n_ff, r0, r1,
                act_h_.data() + static_cast<size_t>(g.begin) * sh, sh, g.end - g.begin,
                y_.data() + static_cast<size_t>(g.begin) * n_embd + r0,
                static_cast<size_t>(n_embd));
  };

  if (b.n_tokens == 1 && n_groups % pool_.size() == 0) {
    // Decode with as many expert groups as threads (or a multiple): one task per group runs
    // (2)-(4) for its expert alone, since its down projection needs only its own h. One
    // dispatch and one barrier per layer instead of two, and no serial quantization between
    // them. Per row the same kernels and arithmetic as below: identical results.
    pool_.parallel_for(n_groups, [&](int64_t task, int thread) {
      const Group& g = groups_[static_cast<size_t>(task)];
      gate_up(g, 0, n_ff, thread);
      for (int i = g.begin; i < g.end; ++i) {
        quantize_activation(e0.down.type, h_.data() + static_cast<size_t>(i) * n_ff,
                            act_h_.data() + static_cast<size_t>(i) * sh, n_ff);
      }
      down(g, 0, n_embd);
    });
  } else {
    // Tasks = groups x row slices of n_ff, then of n_embd.
    const int64_t ff_chunk = rows_per_task(n_ff * n_groups, pool_.size(), b.n_tokens);
    const int64_t ff_slices = (n_ff + ff_chunk - 1) / ff_chunk;
    pool_.parallel_for(n_groups * ff_slices, [&](int64_t task, int thread) {
      const int64_t r0 = (task % ff_slices) * ff_chunk;
      gate_up(groups_[static_cast<size_t>(task / ff_slices)], r0, std::min(n_ff, r0 + ff_chunk),
              thread);
    });
    // (3) h quantized for the down projection.
    quantize_rows(pool_, e0.down.type, h_.data(), static_cast<size_t>(n_ff), n_assign, n_ff,
                  act_h_.data(), sh);
    const int64_t e_chunk = rows_per_task(n_embd * n_groups, pool_.size(), b.n_tokens);
    const int64_t e_slices = (n_embd + e_chunk - 1) / e_chunk;
    pool_.parallel_for(n_groups * e_slices, [&](int64_t task, int) {
      const int64_t r0 = (task % e_slices) * e_chunk;
      down(groups_[static_cast<size_t>(task / e_slices)], r0, std::min(n_embd, r0 + e_chunk));
    });
  }

  // (5) out[t] += w_q * y_q (WDMoE eq. 1), in assignment order: deterministic sums.
  for (int i = 0; i < n_assign; ++i) {
    const ExpertAssignment& a = b.assignments[static_cast<size_t>(i)];
    float* out = b.out + static_cast<size_t>(a.token) * n_embd;
    const float* y = y_.data() + static_cast<size_t>(i) * n_embd;
    for (int64_t c = 0; c < n_embd; ++c) out[c] += a.weight * y[c];
  }
  return {};
}

}  // namespace moe
