#pragma once
// Private to core/quant: the run-time dispatch table of the dot-product kernels and the small
// helpers every ISA file shares. One table per SimdLevel is built once (scalar entries first,
// then each higher ISA overrides what it implements, so a type without an AVX-512 kernel keeps
// its AVX2 one); active_simd_level() picks the table on every call.
#include <bit>
#include <cstddef>
#include <cstdint>

#include "core/quant/block_dot.h"
#include "core/quant/blocks.h"
#include "core/quant/cpu_features.h"
#include "core/quant/fp16_inline.h"
#include "core/quant/types.h"

namespace moe::kern {

/// dot(w_row[n], act[n]); `act` is the prepared activation (F32, Q8_0 or Q8_K row).
using VecDotFn = float (*)(int64_t n, const void* w, const void* act);
/// out[r] = dot(row r, act) for r in [0, nrows); rows are `stride` bytes apart from `w`.
using MatvecFn = void (*)(const uint8_t* w, size_t stride, int64_t n, int64_t nrows,
                          const void* act, float* out);
/// out[t * out_stride + r] = dot(row r, act t) for r < nrows, t < ntok; activations
/// `act_stride` bytes apart.
using MatmulFn = void (*)(const uint8_t* w, size_t stride, int64_t n, int64_t nrows,
                          const uint8_t* acts, size_t act_stride, int64_t ntok, float* out,
                          size_t out_stride);
/// Activation quantizer: x[n] -> dst (Q8_0 or Q8_K blocks).
using QuantizeFn = void (*)(const float* x, void* dst, int64_t n);

constexpr int kNumTypeIds = 32;

struct KernelTable {
  VecDotFn vec_dot[kNumTypeIds] = {};
  MatvecFn matvec[kNumTypeIds] = {};  ///< null: row loop over vec_dot
  MatmulFn matmul[kNumTypeIds] = {};  ///< null: matmul_rows tiles rows and runs matvec per token
  QuantizeFn quantize_q8_0 = nullptr;
  QuantizeFn quantize_q8_k = nullptr;
};

/// Table slot of a type.
constexpr int idx(GgmlType t) {
  return static_cast<int>(t);
}

/// Table for `level` (built once, never null).
const KernelTable& kernel_table(SimdLevel level);

/// Whether AVX-512 kernels may use VNNI (when the CPU has it). Tests turn it off to cover the
/// non-VNNI AVX-512 path on a VNNI machine; that rebuilds the tables and must not race with
/// kernels running on other threads.
bool vnni_allowed();
void set_vnni_allowed_for_testing(bool allow);

/// The table the kernels use now: the tuned one (kernel_tuning.h) while it is set and the
/// level is the unforced best, else kernel_table(active_simd_level()).
const KernelTable& active_kernels();
/// Installs `t` as the tuned table / removes it. Like set_vnni_allowed_for_testing, must not
/// race with kernels running on other threads (the engine tunes at load).
void set_tuned_table(const KernelTable& t);
void clear_tuned_table();

// Registration, one per translation unit (each overrides the entries it implements).
void register_scalar_float(KernelTable& t);   // vec_dot_scalar.cpp
void register_scalar_legacy(KernelTable& t);  // vec_dot_scalar.cpp
void register_scalar_kquant(KernelTable& t);  // vec_dot_kquant_scalar.cpp
void register_scalar_act(KernelTable& t);     // act_quant.cpp
void register_avx2(KernelTable& t);           // vec_dot_avx2.cpp
void register_avx2_kquant(KernelTable& t);    // vec_dot_kquant_avx2.cpp
void register_avx2_act(KernelTable& t);       // act_quant_avx2.cpp
void register_avx512(KernelTable& t);         // vec_dot_avx512.cpp
void register_avx512_kquant(KernelTable& t);  // vec_dot_kquant_avx512.cpp

// --- scalar helpers -----------------------------------------------------------------------
// Internal linkage: these are compiled into files with different ISA flags, and one shared
// (COMDAT) copy could otherwise be an AVX-512 build used on an AVX2-only machine.
namespace {

/// IEEE half <-> float for the scalar kernels (core/quant/fp16_inline.h, bit-identical to
/// ggml and to F16C, which the SIMD files use instead).
inline float half_to_float(uint16_t h) {
  return fp16::to_fp32(h);
}
inline uint16_t float_to_half(float f) {
  return fp16::from_fp32(f);
}

inline float bf16_bits_to_float(uint16_t h) {
  return std::bit_cast<float>(static_cast<uint32_t>(h) << 16);
}

/// K-quant 6-bit scale/min unpacking (Q4_K, Q5_K): sub-block j of 8 (block_dot.h, shared
/// with the CUDA kernels).
using blockdot::get_scale_min_k4;

/// Q3_K: the 12 packed bytes -> 16 signed 6-bit scales (value - 32).
inline void unpack_q3k_scales(const uint8_t* packed, int8_t* out16) {
  for (int j = 0; j < 16; ++j) {
    const int low = j < 8 ? (packed[j] & 0xF) : (packed[j - 8] >> 4);
    const int high = (packed[8 + (j % 4)] >> (2 * (j / 4))) & 3;
    out16[j] = static_cast<int8_t>((low | (high << 4)) - 32);
  }
}

/// Q4_K/Q5_K: the 12 packed bytes -> 8 scales then 8 mins (all 6-bit).
inline void unpack_q4k_scales(const uint8_t* packed, uint8_t* scales8, uint8_t* mins8) {
  for (int j = 0; j < 8; ++j) get_scale_min_k4(j, packed, &scales8[j], &mins8[j]);
}

}  // namespace
}  // namespace moe::kern
