#pragma once
// MOE_HD marks the small inline functions shared by the CPU kernels and the CUDA kernels
// (core/cuda/): __host__ __device__ when nvcc compiles the file, a plain inline function for
// the host compiler. One definition of the block maths serves both, so a CUDA kernel and its
// CPU twin decode every block the same way.
#include <bit>
#include <cstdint>

#if defined(__CUDACC__)
#define MOE_HD __host__ __device__ __forceinline__
#else
#define MOE_HD inline
#endif

namespace moe::hd {
// Internal linkage: see fp16_inline.h (ISA-flagged files include these headers too).
namespace {

MOE_HD float bits_to_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  return std::bit_cast<float>(u);
#endif
}

MOE_HD uint32_t float_to_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  return std::bit_cast<uint32_t>(f);
#endif
}

}  // namespace
}  // namespace moe::hd
