#pragma once
// Inner loops of attention over the KV cache for the g query heads that share one KV head
// (grouped-query attention), with k/v rows in F32 or F16, `stride` elements apart (one row per
// cached position). Each cached row is read once for all g heads (the others hit L1):
//   scores: s[h][p] = scale · q[h]·k[p]       h < g, p < n_pos; q rows hd apart, s rows s_stride
//   mix:    o[h][:] = Σ_p w[h][p] · v[p][:]   o rows hd apart (overwritten), w rows w_stride
// AVX-512 or AVX2 (+F16C, FMA) versions are picked at run time when the CPU has them; the scalar
// ones are the reference (same result up to float summation order; mix is identical across the
// SIMD sets, scores differ in the grouping of the horizontal sums).
#include <cstddef>
#include <cstdint>

namespace moe::attn {

template <class T>
struct KernelsFor {
  void (*scores)(const float* q, int g, const T* k, size_t stride, int n_pos, int hd, float scale,
                 float* s, size_t s_stride);
  void (*mix)(const float* w, size_t w_stride, int g, const T* v, size_t stride, int n_pos, int hd,
              float* o);
};

struct Kernels {
  KernelsFor<float> f32;
  KernelsFor<uint16_t> f16;
  /// dst[i] = fp16(src[i]), round to nearest even (the new K/V rows of an F16 cache).
  void (*to_f16)(const float* src, uint16_t* dst, int n);
};

/// The best kernels for this CPU (chosen once, honouring set_simd_level's cap at that time).
const Kernels& kernels();
/// The portable reference kernels.
const Kernels& scalar_kernels();
/// The AVX2 kernels (call only when the CPU has AVX2, FMA and F16C).
const Kernels& avx2_kernels();
/// The AVX-512 kernels (call only at SimdLevel::kAvx512 with FMA and F16C).
const Kernels& avx512_kernels();

}  // namespace moe::attn
