#pragma once
// Kernel choice per microarchitecture, measured rather than assumed (design §4). On a CPU with
// AVX-512 every weight type has two mat-vec kernels: the 512-bit one and the 256-bit (AVX2)
// one. Which is faster depends on the core: Zen 4 executes 512-bit operations in two halves
// and its 512-bit Q4_0 kernel was measured slower than the 256-bit one, while Zen 5 and Intel
// cores run 512 bits at full width. calibrate_kernels() times both on this core (a mat-vec over
// a matrix larger than the caches, best of several sweeps) and picks per type; the result is
// cached per CPU (vendor, family, model, stepping, brand, kernel-set version) in the user cache
// folder, so it runs once per machine, under a file lock so that concurrent first starts agree.
//
// Selection (MOE_SIMD): unset or "auto" = the best level with the tuned per-type choice once
// ensure_kernel_tuning() ran (the engine calls it at load); "avx512", "avx2", "scalar" force
// one variant for every type (tests and comparisons). MOE_KERNEL_TUNING=off keeps every type on
// the best level's own kernel without measuring.
#include <cstdint>
#include <string>
#include <vector>

#include "core/quant/types.h"
#include "core/util/status.h"

namespace moe {

struct CpuIdentity {
  std::string vendor, brand;  ///< "AuthenticAMD", "AMD EPYC 9R14 96-Core Processor"
  int family = 0, model = 0, stepping = 0;  ///< display family/model (extended fields folded)
  std::string describe() const;             ///< "AMD EPYC ... (family 25 model 17 stepping 1)"
  std::string key() const;                  ///< stable hex key for the cache file name
};
CpuIdentity cpu_identity();

struct KernelChoice {
  GgmlType type = GgmlType::F32;
  int width = 512;  ///< 512: the AVX-512 kernel; 256: the AVX2 kernel
  double gb_per_s_256 = 0, gb_per_s_512 = 0;  ///< measured weight-read rate of each
};

struct KernelTuning {
  std::string cpu;                    ///< CpuIdentity::describe()
  std::vector<KernelChoice> choices;  ///< types with both kernels; empty: nothing to choose
  std::string source;                 ///< "measured", "cache <path>", "off", "forced <level>"
  double calibration_s = 0;           ///< time spent measuring (0 from the cache)
};

/// Times each type's 256- and 512-bit mat-vec on this core (single thread). Empty choices
/// when the CPU or OS lacks AVX-512. Takes ~0.1-0.5 s.
KernelTuning calibrate_kernels();

/// Makes `t` the active per-type choice (used while MOE_SIMD is unset/auto and no level was
/// forced with set_simd_level).
void apply_kernel_tuning(const KernelTuning& t);
/// Back to the best level's own kernels for every type.
void clear_kernel_tuning();

/// Once per process: the cached tuning for this CPU, or a calibration saved to the cache (an
/// unwritable cache is reported in `source` and the measured choice still applies); then
/// applied. MOE_KERNEL_TUNING=off or a forced MOE_SIMD level: nothing measured or applied.
const KernelTuning& ensure_kernel_tuning();

/// "avx512", "avx512 (256-bit: Q4_0, Q8_0)", "avx2 (forced)": what the kernels use now.
std::string kernel_summary();

/// JSON text of a tuning (the cache file's content) and back; parse errors name the problem.
std::string kernel_tuning_to_json(const KernelTuning& t, const CpuIdentity& id);
Result<KernelTuning> kernel_tuning_from_json(const std::string& text, const CpuIdentity& id);

}  // namespace moe
