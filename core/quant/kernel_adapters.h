#pragma once
// Adapters that turn a SIMD kernel written for R rows (or T tokens) at once into the
// dispatch-table entries of core/quant/kernels.h. Include ONLY from the *_avx2.cpp /
// *_avx512.cpp files, after simd_avx2.h; like it, everything has internal linkage so that each
// ISA file keeps its own instantiations.
#include "core/quant/kernels.h"

namespace moe::kern::x86 {
namespace {

/// Block i of row r in a matrix of rows `stride` bytes apart starting at w.
template <class Block>
inline const Block* row_block(const uint8_t* w, size_t stride, int r, int64_t i) {
  return reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * stride) + i;
}

/// Rows-at-once kernel adapters. A kernel K has
///   template <int R> static void run(const uint8_t* w, size_t stride, int64_t n,
///                                    const void* act, float* out);
/// computing out[r] for R rows `stride` bytes apart (activation loads shared by the rows).
template <class K>
float vec_dot_1(int64_t n, const void* w, const void* act) {
  float out;
  K::template run<1>(static_cast<const uint8_t*>(w), 0, n, act, &out);
  return out;
}

template <class K, int kRows>
void matvec_n(const uint8_t* w, size_t stride, int64_t n, int64_t nrows, const void* act,
              float* out) {
  int64_t r = 0;
  for (; r + kRows <= nrows; r += kRows) {
    K::template run<kRows>(w + static_cast<size_t>(r) * stride, stride, n, act, out + r);
  }
  for (; r < nrows; ++r)
    K::template run<1>(w + static_cast<size_t>(r) * stride, 0, n, act, out + r);
}

/// Token-batched adapter: K also has
///   template <int T> static void run_tokens(const uint8_t* row, size_t stride, int64_t n,
///                                            const uint8_t* acts, size_t act_stride, float* out,
///                                            size_t out_stride);
/// Rows one after another (a single sequential weight stream), tokens in groups of 4.
template <class K>
void matmul_tokens(const uint8_t* w, size_t stride, int64_t n, int64_t nrows, const uint8_t* acts,
                   size_t act_stride, int64_t ntok, float* out, size_t out_stride) {
  for (int64_t r = 0; r < nrows; ++r) {
    const uint8_t* row = w + static_cast<size_t>(r) * stride;
    int64_t t = 0;
    for (; t + 4 <= ntok; t += 4) {
      K::template run_tokens<4>(row, stride, n, acts + t * act_stride, act_stride,
                                out + t * out_stride + r, out_stride);
    }
    const uint8_t* a = acts + t * act_stride;
    float* o = out + t * out_stride + r;
    switch (ntok - t) {
      case 3:
        K::template run_tokens<3>(row, stride, n, a, act_stride, o, out_stride);
        break;
      case 2:
        K::template run_tokens<2>(row, stride, n, a, act_stride, o, out_stride);
        break;
      case 1:
        K::template run_tokens<1>(row, stride, n, a, act_stride, o, out_stride);
        break;
      default:
        break;
    }
  }
}

template <class K>
void set_matmul(KernelTable& t, GgmlType type) {
  t.matmul[idx(type)] = matmul_tokens<K>;
}

template <class K, int kRows>
void set_kernel(KernelTable& t, GgmlType type) {
  t.vec_dot[idx(type)] = vec_dot_1<K>;
  t.matvec[idx(type)] = matvec_n<K, kRows>;
}

}  // namespace
}  // namespace moe::kern::x86
