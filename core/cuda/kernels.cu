// CUDA kernels of the expert executor (declared with their CPU twins in kernels.h). Each kernel
// is short with its launch beside it. Decode is memory-bound: the mat-vec reads every weight
// byte once, one warp per row, lanes on adjacent 32-element chunks so a warp's loads cover
// contiguous bytes of the row; the activation (a few KiB) stays in L1/L2 for all rows.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "core/cuda/cuda_error.h"
#include "core/cuda/kernels.h"
#include "core/quant/block_dot.h"

namespace moe::cuda {
namespace {

constexpr int kWarp = 32;
constexpr int kRowsPerBlock = 4;  // warps per block of the mat-vec

__device__ __forceinline__ float warp_sum(float v) {
  for (int off = kWarp / 2; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int off = kWarp / 2; off > 0; off >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}

int grid_for(int64_t n, int per_block) {
  return static_cast<int>((n + per_block - 1) / per_block);
}

// --- mat-vec ---------------------------------------------------------------------------------

template <class W>
__global__ void matvec_kernel(const uint8_t* w, size_t stride, int64_t nb, int64_t nrows,
                              const typename blockdot::Chunk<W>::Act* act, float* out) {
  using C = blockdot::Chunk<W>;
  const int64_t row = static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + threadIdx.y;
  if (row >= nrows) return;  // the whole warp leaves together: the shuffles below stay full
  const W* wr = reinterpret_cast<const W*>(w + row * stride);
  const int64_t n_chunks = nb * C::kChunks;
  float sum = 0;
  for (int64_t c = threadIdx.x; c < n_chunks; c += kWarp) {
    const int64_t b = c / C::kChunks;
    sum += C::dot(wr[b], act[b], static_cast<int>(c % C::kChunks));
  }
  sum = warp_sum(sum);
  if (threadIdx.x == 0) out[row] = sum;
}

template <class W>
void launch_matvec(const void* w, size_t stride, int64_t n, int64_t nrows, const void* act,
                   float* out, Stream s) {
  using Act = typename blockdot::Chunk<W>::Act;
  constexpr int64_t kBlock = static_cast<int64_t>(sizeof(Act::qs));
  const dim3 block(kWarp, kRowsPerBlock);
  matvec_kernel<W><<<grid_for(nrows, kRowsPerBlock), block, 0, s>>>(
      static_cast<const uint8_t*>(w), stride, n / kBlock, nrows, static_cast<const Act*>(act), out);
  check_launch("mat-vec");
}

// --- activation quantization -------------------------------------------------------------------

// ggml quantize_row_q8_0_ref, one warp per 32-element block (lane = element). __fmul_rn keeps
// the product from being fused into a later add: the bytes must equal the CPU's.
__global__ void quantize_q8_0_kernel(const float* x, BlockQ8_0* y, int64_t nb) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
  if (b >= nb) return;
  const int lane = threadIdx.x % kWarp;
  const float v = x[b * kQK8_0 + lane];
  const float amax = warp_max(fabsf(v));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  y[b].qs[lane] = static_cast<int8_t>(roundf(__fmul_rn(v, id)));
  if (lane == 0) y[b].d = fp16::from_fp32(d);
}

// ggml quantize_row_q8_K_ref, one warp per 256-element block, lane l on elements 8l .. 8l+7:
// the element of largest magnitude (first on ties) maps to -127, q = nearest_int(iscale x).
__global__ void quantize_q8_k_kernel(const float* x, BlockQ8_K* y, int64_t nb) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
  if (b >= nb) return;
  const int lane = threadIdx.x % kWarp;
  const float* xb = x + b * kQK_K + 8 * lane;
  float amax = 0.0f;
  int at = -1;
  for (int j = 0; j < 8; ++j) {
    const float ax = fabsf(xb[j]);
    if (ax > amax) {
      amax = ax;
      at = 8 * lane + j;
    }
  }
  for (int off = kWarp / 2; off > 0; off >>= 1) {  // larger magnitude, ties -> lower index
    const float oa = __shfl_xor_sync(0xffffffffu, amax, off);
    const int oi = __shfl_xor_sync(0xffffffffu, at, off);
    if (oa > amax || (oa == amax && oi >= 0 && (at < 0 || oi < at))) {
      amax = oa;
      at = oi;
    }
  }
  BlockQ8_K& out = y[b];
  if (amax == 0.0f) {
    for (int j = 0; j < 8; ++j) out.qs[8 * lane + j] = 0;
    if (lane < kQK_K / 16) out.bsums[lane] = 0;
    if (lane == 0) out.d = 0.0f;
    return;
  }
  const float iscale = -127.0f / x[b * kQK_K + at];
  int sum = 0;
  for (int j = 0; j < 8; ++j) {
    const float t = __fadd_rn(__fmul_rn(iscale, xb[j]), 12582912.0f);  // ggml nearest_int
    int v = static_cast<int>(__float_as_uint(t) & 0x007FFFFFu) - 0x00400000;
    v = v < 127 ? v : 127;
    out.qs[8 * lane + j] = static_cast<int8_t>(v);
    sum += v;
  }
  sum += __shfl_down_sync(0xffffffffu, sum, 1);  // bsums[j]: elements 16j .. 16j+15
  if (lane % 2 == 0) out.bsums[lane / 2] = static_cast<int16_t>(sum);
  if (lane == 0) out.d = 1.0f / iscale;
}

// --- small per-row operations ------------------------------------------------------------------

// One block; sum of squares in double as ops::rms_norm.
__global__ void rms_norm_kernel(const float* x, const float* w, float eps, int n, float* out) {
  __shared__ double part[32];
  double ss = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) ss += static_cast<double>(x[i]) * x[i];
  for (int off = kWarp / 2; off > 0; off >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, off);
  if (threadIdx.x % kWarp == 0) part[threadIdx.x / kWarp] = ss;
  __syncthreads();
  if (threadIdx.x == 0) {
    double t = 0;
    for (int i = 0; i < static_cast<int>(blockDim.x / kWarp); ++i) t += part[i];
    part[0] = t;
  }
  __syncthreads();
  const float scale = static_cast<float>(1.0 / sqrt(part[0] / n + eps));
  for (int i = threadIdx.x; i < n; i += blockDim.x) out[i] = x[i] * scale * w[i];
}

__global__ void rope_kernel(float* x, int n_heads, int head_dim, int n_rot, const float* cs) {
  const int pairs = n_rot / 2;
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n_heads * pairs) return;
  const int h = t / pairs, i = t % pairs;
  float* v = x + static_cast<int64_t>(h) * head_dim;
  const float c = cs[2 * i], s = cs[2 * i + 1];
  const float a = v[2 * i], b = v[2 * i + 1];
  v[2 * i] = a * c - b * s;
  v[2 * i + 1] = a * s + b * c;
}

__global__ void swiglu_kernel(const float* g, const float* u, float* h, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) h[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

// One thread: n_expert is small (8 for Mixtral); selection as top_k_softmax (descending,
// ties -> lower index), softmax over the chosen logits.
__global__ void router_topk_kernel(const float* logits, int n_expert, int k, int32_t* ids,
                                   float* weights) {
  if (threadIdx.x != 0) return;
  uint32_t taken[8] = {};  // bitset over up to 256 experts
  for (int i = 0; i < k; ++i) {
    int best = -1;
    for (int e = 0; e < n_expert; ++e) {
      if ((taken[e / 32] >> (e % 32)) & 1u) continue;
      if (best < 0 || logits[e] > logits[best]) best = e;
    }
    taken[best / 32] |= 1u << (best % 32);
    ids[i] = best;
  }
  const float mx = logits[ids[0]];
  float sum = 0;
  for (int i = 0; i < k; ++i) {
    weights[i] = expf(logits[ids[i]] - mx);
    sum += weights[i];
  }
  for (int i = 0; i < k; ++i) weights[i] /= sum;
}

// One block per query head: scores into scratch, block max and sum, then the weighted sum of
// the value rows (each thread owns output dims).
__global__ void attention_decode_kernel(const float* q, const float* k, const float* v,
                                        size_t kv_stride, int n_pos, int group, int hd, float scale,
                                        float* scratch, float* out) {
  __shared__ float red[32];
  const int h = blockIdx.x;
  const float* qh = q + static_cast<int64_t>(h) * hd;
  const int64_t kv_off = static_cast<int64_t>(h / group) * hd;
  float* s = scratch + static_cast<int64_t>(h) * n_pos;
  const int nw = blockDim.x / kWarp, lane = threadIdx.x % kWarp, wid = threadIdx.x / kWarp;
  // Scores: one warp per position.
  for (int p = wid; p < n_pos; p += nw) {
    const float* kp = k + static_cast<int64_t>(p) * kv_stride + kv_off;
    float d = 0;
    for (int i = lane; i < hd; i += kWarp) d += qh[i] * kp[i];
    d = warp_sum(d);
    if (lane == 0) s[p] = d * scale;
  }
  __syncthreads();
  float mx = -INFINITY;
  for (int p = threadIdx.x; p < n_pos; p += blockDim.x) mx = fmaxf(mx, s[p]);
  mx = warp_max(mx);
  if (lane == 0) red[wid] = mx;
  __syncthreads();
  mx = red[0];
  for (int i = 1; i < nw; ++i) mx = fmaxf(mx, red[i]);
  __syncthreads();
  float sum = 0;
  for (int p = threadIdx.x; p < n_pos; p += blockDim.x) {
    const float e = expf(s[p] - mx);
    s[p] = e;
    sum += e;
  }
  sum = warp_sum(sum);
  if (lane == 0) red[wid] = sum;
  __syncthreads();
  sum = 0;
  for (int i = 0; i < nw; ++i) sum += red[i];
  const float inv = 1.0f / sum;
  for (int i = threadIdx.x; i < hd; i += blockDim.x) {
    float o = 0;
    for (int p = 0; p < n_pos; ++p) o += s[p] * v[static_cast<int64_t>(p) * kv_stride + kv_off + i];
    out[static_cast<int64_t>(h) * hd + i] = o * inv;
  }
}

__global__ void add_scaled_kernel(float* out, const float* y, float w, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) out[i] += w * y[i];
}

// One thread per output element of an [nrows, n] tile.
template <class W>
__global__ void dequant_f16_kernel(const uint8_t* w, size_t stride, int64_t n, int64_t nrows,
                                   uint16_t* out) {
  using C = blockdot::Chunk<W>;
  constexpr int64_t kBlock = 32 * C::kChunks;
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n * nrows) return;
  const int64_t r = t / n, i = t % n;
  const W* row = reinterpret_cast<const W*>(w + r * stride);
  const int within = static_cast<int>(i % kBlock);
  out[t] = fp16::from_fp32(C::value(row[i / kBlock], within / 32, within % 32));
}

__global__ void gather_f16_kernel(const float* x, const int32_t* rows, int n_rows, int64_t n,
                                  uint16_t* out) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n * n_rows) return;
  const int64_t i = t / n, j = t % n;
  out[t] = fp16::from_fp32(x[static_cast<int64_t>(rows ? rows[i] : i) * n + j]);
}

__global__ void scatter_add_scaled_kernel(float* out, const float* y, const int32_t* rows,
                                          const float* w, int n_rows, int64_t n) {
  const int64_t t = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= n * n_rows) return;
  const int64_t i = t / n, j = t % n;
  out[static_cast<int64_t>(rows[i]) * n + j] += w[i] * y[t];
}

constexpr int kThreads = 256;

template <class W>
void launch_dequant_f16(const void* w, size_t stride, int64_t n, int64_t nrows, uint16_t* out,
                        Stream s) {
  dequant_f16_kernel<W><<<grid_for(n * nrows, kThreads), kThreads, 0, s>>>(
      static_cast<const uint8_t*>(w), stride, n, nrows, out);
  check_launch("dequantization to f16");
}

}  // namespace

void matvec(GgmlType type, const void* w, size_t row_stride, int64_t n, int64_t nrows,
            const void* act, float* out, Stream s) {
  switch (type) {
    case GgmlType::Q4_0:
      return launch_matvec<BlockQ4_0>(w, row_stride, n, nrows, act, out, s);
    case GgmlType::Q8_0:
      return launch_matvec<BlockQ8_0>(w, row_stride, n, nrows, act, out, s);
    case GgmlType::Q4_K:
      return launch_matvec<BlockQ4_K>(w, row_stride, n, nrows, act, out, s);
    case GgmlType::Q6_K:
      return launch_matvec<BlockQ6_K>(w, row_stride, n, nrows, act, out, s);
    default:
      throw CudaError(std::string("CUDA mat-vec: no kernel for weight type ") +
                      std::string(type_name(type)));
  }
}

void quantize_act(GgmlType weight_type, const float* x, void* dst, int64_t n, Stream s) {
  constexpr int kWarpsPerBlock = kThreads / kWarp;
  switch (weight_type) {
    case GgmlType::Q4_0:
    case GgmlType::Q8_0: {
      const int64_t nb = n / kQK8_0;
      quantize_q8_0_kernel<<<grid_for(nb, kWarpsPerBlock), kThreads, 0, s>>>(
          x, static_cast<BlockQ8_0*>(dst), nb);
      break;
    }
    case GgmlType::Q4_K:
    case GgmlType::Q6_K: {
      const int64_t nb = n / kQK_K;
      quantize_q8_k_kernel<<<grid_for(nb, kWarpsPerBlock), kThreads, 0, s>>>(
          x, static_cast<BlockQ8_K*>(dst), nb);
      break;
    }
    default:
      throw CudaError(std::string("CUDA activation quantization: no kernel for weight type ") +
                      std::string(type_name(weight_type)));
  }
  check_launch("activation quantization");
}

void rms_norm(const float* x, const float* w, float eps, int n, float* out, Stream s) {
  rms_norm_kernel<<<1, 1024, 0, s>>>(x, w, eps, n, out);
  check_launch("RMSNorm");
}

void rope(float* x, int n_heads, int head_dim, int n_rot, const float* cos_sin, Stream s) {
  rope_kernel<<<grid_for(static_cast<int64_t>(n_heads) * (n_rot / 2), kThreads), kThreads, 0, s>>>(
      x, n_heads, head_dim, n_rot, cos_sin);
  check_launch("RoPE");
}

void swiglu(const float* gate, const float* up, float* h, int64_t n, Stream s) {
  swiglu_kernel<<<grid_for(n, kThreads), kThreads, 0, s>>>(gate, up, h, n);
  check_launch("SwiGLU");
}

void router_topk(const float* logits, int n_expert, int k, int32_t* ids, float* weights, Stream s) {
  if (n_expert > 256 || k > 8 || k > n_expert) {
    throw CudaError("CUDA router: at most 256 experts and k <= 8 (k <= n_expert)");
  }
  router_topk_kernel<<<1, 1, 0, s>>>(logits, n_expert, k, ids, weights);
  check_launch("router top-k");
}

void attention_decode(const float* q, const float* k, const float* v, size_t kv_stride, int n_pos,
                      int n_head, int n_head_kv, int hd, float scale, float* scratch, float* out,
                      Stream s) {
  attention_decode_kernel<<<n_head, kThreads, 0, s>>>(q, k, v, kv_stride, n_pos, n_head / n_head_kv,
                                                      hd, scale, scratch, out);
  check_launch("decode attention");
}

void add_scaled(float* out, const float* y, float w, int64_t n, Stream s) {
  add_scaled_kernel<<<grid_for(n, kThreads), kThreads, 0, s>>>(out, y, w, n);
  check_launch("weighted add");
}

void dequant_f16(GgmlType type, const void* w, size_t row_stride, int64_t n, int64_t nrows,
                 uint16_t* out, Stream s) {
  switch (type) {
    case GgmlType::Q4_0:
      return launch_dequant_f16<BlockQ4_0>(w, row_stride, n, nrows, out, s);
    case GgmlType::Q8_0:
      return launch_dequant_f16<BlockQ8_0>(w, row_stride, n, nrows, out, s);
    case GgmlType::Q4_K:
      return launch_dequant_f16<BlockQ4_K>(w, row_stride, n, nrows, out, s);
    case GgmlType::Q6_K:
      return launch_dequant_f16<BlockQ6_K>(w, row_stride, n, nrows, out, s);
    default:
      throw CudaError(std::string("CUDA dequantization: no kernel for weight type ") +
                      std::string(type_name(type)));
  }
}

void gather_f16(const float* x, const int32_t* rows, int n_rows, int64_t n, uint16_t* out,
                Stream s) {
  gather_f16_kernel<<<grid_for(n * n_rows, kThreads), kThreads, 0, s>>>(x, rows, n_rows, n, out);
  check_launch("gather to f16");
}

void scatter_add_scaled(float* out, const float* y, const int32_t* rows, const float* w, int n_rows,
                        int64_t n, Stream s) {
  scatter_add_scaled_kernel<<<grid_for(n * n_rows, kThreads), kThreads, 0, s>>>(out, y, rows, w,
                                                                                n_rows, n);
  check_launch("scatter weighted add");
}

}  // namespace moe::cuda
