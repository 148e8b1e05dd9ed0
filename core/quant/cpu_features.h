#pragma once
// Run-time ISA selection. An extension is used only if CPUID advertises it AND the OS saves its
// register state (XGETBV): AVX needs XCR0 bits 1-2, AVX-512 bits 5-7. (AMX is advertised but
// faults on some of our machines, which is why the OS check matters.)
#include <string_view>

namespace moe {

enum class SimdLevel { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

struct CpuFeatures {
  bool avx2 = false, fma = false, f16c = false, bmi2 = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false;
  bool os_avx = false, os_avx512 = false;
};

const CpuFeatures& cpu_features();  ///< detected once
SimdLevel best_simd_level();        ///< highest level the CPU and OS support
SimdLevel active_simd_level();      ///< what the kernels use now
/// Caps the level used by the kernels (tests compare paths; MOE_SIMD=scalar|avx2|avx512 env
/// sets it at start). Levels above best_simd_level() are clamped.
void set_simd_level(SimdLevel level);
/// True once a level was chosen by MOE_SIMD=scalar|avx2|avx512 or set_simd_level(): every
/// type then uses that level's own kernel (no per-type tuning, kernel_tuning.h).
bool simd_level_forced();
/// Back to the default: the best level, not forced (per-type tuning applies again).
void set_simd_level_auto();
std::string_view simd_level_name(SimdLevel level);

}  // namespace moe
