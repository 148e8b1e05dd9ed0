#pragma once
// Internal: the scale searches behind the K-quant reference quantizers (ggml-quants.c
// make_qx_quants, make_q3_quants, make_qkx2_quants, nearest_int), reproduced operation for
// operation so that the produced bytes match ggml's quantize_row_q*_K_ref.
#include <cstdint>
#include <cstring>

namespace moe::ref {

namespace {  // internal linkage: see fp16_inline.h

/// Round to nearest, ties to even, via the 1.5*2^23 magic number (valid for |v| < 2^22, which
/// holds for every call site: levels are clamped right after).
inline int nearest_int(float v) {
  const float biased = v + 12582912.f;
  int32_t i;
  std::memcpy(&i, &biased, sizeof(i));
  return (i & 0x007fffff) - 0x00400000;
}

}  // namespace

/// Symmetric levels L[i] in [0, 2*nmax) for x[n] with x ~ scale * (L - nmax). rmse_type 0 takes
/// the plain absmax scale; 1 weights the fit by x^2 (or by qw when given) and tries 18 nearby
/// scales. Returns the scale (0 for an all-zero group).
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw);

/// Q3_K's variant: least squares with x^2 weights plus up to 5 coordinate-descent passes.
float make_q3_quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);

/// Asymmetric levels L[i] in [0, nmax] with x ~ scale * L - the_min (the_min >= 0): a weighted
/// least-squares fit over nstep+1 trial scales (rmin + rdelta*is + nmax) / (max - min). Laux is
/// scratch of n bytes. use_mad: weighted absolute instead of squared error.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                       bool use_mad);

}  // namespace moe::ref
