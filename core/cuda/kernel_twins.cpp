// CPU twins of the CUDA kernels (kernels.h). The mat-vec twin sums the same 32-element chunks
// as the kernel (block_dot.h), in row order; the other twins are the CPU engine's own
// operations (ops::, attn::, top_k_softmax), so a CUDA parity test compares with exactly what
// the CPU backend computes.
#include <cstring>
#include <vector>

#include "core/cuda/kernels.h"
#include "core/engine/attention_kernels.h"
#include "core/engine/session_ops.h"
#include "core/engine_api/expert_selection.h"
#include "core/quant/block_dot.h"
#include "core/quant/quant.h"
#include "core/util/check.h"

namespace moe::cuda {

bool has_matvec(GgmlType type) {
  return type == GgmlType::Q4_0 || type == GgmlType::Q8_0 || type == GgmlType::Q4_K ||
         type == GgmlType::Q6_K;
}

namespace twin {
namespace {

template <class W>
void matvec_rows(const void* w, size_t row_stride, int64_t n, int64_t nrows, const void* act,
                 float* out) {
  using Act = typename blockdot::Chunk<W>::Act;
  constexpr int64_t kBlock = static_cast<int64_t>(sizeof(Act::qs));  // 32 or 256 elements
  const auto* a = static_cast<const Act*>(act);
  for (int64_t r = 0; r < nrows; ++r) {
    const auto* row = reinterpret_cast<const W*>(static_cast<const uint8_t*>(w) + r * row_stride);
    out[r] = blockdot::row_dot_chunks(row, a, n / kBlock);
  }
}

template <class W>
void dequant_rows(const void* w, size_t row_stride, int64_t n, int64_t nrows, uint16_t* out) {
  using C = blockdot::Chunk<W>;
  constexpr int64_t kBlock = 32 * C::kChunks;
  for (int64_t r = 0; r < nrows; ++r) {
    const auto* row = reinterpret_cast<const W*>(static_cast<const uint8_t*>(w) + r * row_stride);
    for (int64_t i = 0; i < n; ++i) {
      const int within = static_cast<int>(i % kBlock);
      out[r * n + i] = fp16::from_fp32(C::value(row[i / kBlock], within / 32, within % 32));
    }
  }
}

}  // namespace

void matvec(GgmlType type, const void* w, size_t row_stride, int64_t n, int64_t nrows,
            const void* act, float* out) {
  switch (type) {
    case GgmlType::Q4_0:
      return matvec_rows<BlockQ4_0>(w, row_stride, n, nrows, act, out);
    case GgmlType::Q8_0:
      return matvec_rows<BlockQ8_0>(w, row_stride, n, nrows, act, out);
    case GgmlType::Q4_K:
      return matvec_rows<BlockQ4_K>(w, row_stride, n, nrows, act, out);
    case GgmlType::Q6_K:
      return matvec_rows<BlockQ6_K>(w, row_stride, n, nrows, act, out);
    default:
      MOE_CHECK(false, "CUDA mat-vec: weight type without a kernel (see has_matvec)");
  }
}

void quantize_act(GgmlType weight_type, const float* x, void* dst, int64_t n) {
  quantize_activation(weight_type, x, dst, n);
}

void rms_norm(const float* x, const float* w, float eps, int n, float* out) {
  ops::rms_norm(x, w, eps, n, out);
}

void rope(float* x, int n_heads, int head_dim, int n_rot, const float* cos_sin) {
  ops::rope_apply(x, n_heads, head_dim, n_rot, cos_sin);
}

void swiglu(const float* gate, const float* up, float* h, int64_t n) {
  for (int64_t i = 0; i < n; ++i) h[i] = ops::silu(gate[i]) * up[i];
}

void router_topk(const float* logits, int n_expert, int k, int32_t* ids, float* weights) {
  ExpertSelection sel;
  top_k_softmax({logits, static_cast<size_t>(n_expert)}, k, sel);
  for (int i = 0; i < k; ++i) {
    ids[i] = sel.experts[static_cast<size_t>(i)];
    weights[i] = sel.weights[static_cast<size_t>(i)];
  }
}

void attention_decode(const float* q, const float* k, const float* v, size_t kv_stride, int n_pos,
                      int n_head, int n_head_kv, int hd, float scale, float* scratch, float* out) {
  const attn::KernelsFor<float>& kf = attn::scalar_kernels().f32;
  const int g = n_head / n_head_kv;  // query heads per KV head
  for (int j = 0; j < n_head_kv; ++j) {
    const float* qj = q + static_cast<size_t>(j) * g * hd;
    float* s = scratch + static_cast<size_t>(j) * g * n_pos;
    kf.scores(qj, g, k + static_cast<size_t>(j) * hd, kv_stride, n_pos, hd, scale, s,
              static_cast<size_t>(n_pos));
    for (int h = 0; h < g; ++h) ops::softmax(s + static_cast<size_t>(h) * n_pos, n_pos);
    kf.mix(s, static_cast<size_t>(n_pos), g, v + static_cast<size_t>(j) * hd, kv_stride, n_pos, hd,
           out + static_cast<size_t>(j) * g * hd);
  }
}

void add_scaled(float* out, const float* y, float w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += w * y[i];
}

void dequant_f16(GgmlType type, const void* w, size_t row_stride, int64_t n, int64_t nrows,
                 uint16_t* out) {
  switch (type) {
    case GgmlType::Q4_0:
      return dequant_rows<BlockQ4_0>(w, row_stride, n, nrows, out);
    case GgmlType::Q8_0:
      return dequant_rows<BlockQ8_0>(w, row_stride, n, nrows, out);
    case GgmlType::Q4_K:
      return dequant_rows<BlockQ4_K>(w, row_stride, n, nrows, out);
    case GgmlType::Q6_K:
      return dequant_rows<BlockQ6_K>(w, row_stride, n, nrows, out);
    default:
      MOE_CHECK(false, "CUDA dequantization: weight type without a kernel (see has_matvec)");
  }
}

void gather_f16(const float* x, const int32_t* rows, int n_rows, int64_t n, uint16_t* out) {
  for (int i = 0; i < n_rows; ++i) {
    const float* src = x + static_cast<int64_t>(rows ? rows[i] : i) * n;
    for (int64_t j = 0; j < n; ++j) out[i * n + j] = fp16::from_fp32(src[j]);
  }
}

void scatter_add_scaled(float* out, const float* y, const int32_t* rows, const float* w, int n_rows,
                        int64_t n) {
  for (int i = 0; i < n_rows; ++i) add_scaled(out + rows[i] * n, y + i * n, w[i], n);
}

}  // namespace twin
}  // namespace moe::cuda
