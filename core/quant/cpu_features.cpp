#include "core/quant/cpu_features.h"

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define MOE_X86 1
#endif

namespace moe {
namespace {

#ifdef MOE_X86
// XGETBV without needing -mxsave on this translation unit. Only valid when CPUID says OSXSAVE.
uint64_t read_xcr0() {
  uint32_t eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

CpuFeatures detect() {
  CpuFeatures f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool osxsave = (c >> 27) & 1;
  const bool avx = (c >> 28) & 1;
  f.fma = (c >> 12) & 1;
  f.f16c = (c >> 29) & 1;
  if (osxsave && avx) {
    const uint64_t xcr0 = read_xcr0();
    // XCR0: bit 1 SSE, bit 2 AVX (YMM upper); bits 5-7 opmask, ZMM0-15 upper, ZMM16-31.
    f.os_avx = (xcr0 & 0x6) == 0x6;
    f.os_avx512 = f.os_avx && (xcr0 & 0xE0) == 0xE0;
  }
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = (b >> 5) & 1;
    f.bmi2 = (b >> 8) & 1;
    f.avx512f = (b >> 16) & 1;
    f.avx512dq = (b >> 17) & 1;
    f.avx512bw = (b >> 30) & 1;
    f.avx512vl = (b >> 31) & 1;
    f.avx512vnni = (c >> 11) & 1;
  }
  // AMX (leaf 7 EDX bits 22-25) is deliberately never looked at: it needs an arch_prctl
  // permission and faults on some of our machines.
  return f;
}
#else
CpuFeatures detect() {
  return {};
}
#endif

SimdLevel detect_best() {
  const CpuFeatures& f = cpu_features();
  const bool avx2 = f.os_avx && f.avx2 && f.fma && f.f16c && f.bmi2;
  if (!avx2) return SimdLevel::kScalar;
  const bool avx512 = f.os_avx512 && f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
  return avx512 ? SimdLevel::kAvx512 : SimdLevel::kAvx2;
}

SimdLevel clamp(SimdLevel level) {
  const SimdLevel best = best_simd_level();
  return static_cast<int>(level) > static_cast<int>(best) ? best : level;
}

std::atomic<bool> g_forced{false};

// MOE_SIMD=scalar|avx2|avx512 caps the level at start (forced); unset or "auto": the best
// level, with per-type tuning; anything else is ignored with a note.
SimdLevel initial_level() {
  const char* env = std::getenv("MOE_SIMD");
  if (env == nullptr || *env == '\0') return best_simd_level();
  const std::string_view v(env);
  if (v == "auto") return best_simd_level();
  g_forced.store(v == "scalar" || v == "avx2" || v == "avx512", std::memory_order_relaxed);
  if (v == "scalar") return SimdLevel::kScalar;
  if (v == "avx2") return clamp(SimdLevel::kAvx2);
  if (v == "avx512") return clamp(SimdLevel::kAvx512);
  std::fprintf(stderr, "MOE_SIMD=%s not understood (auto|scalar|avx2|avx512); using %s\n", env,
               simd_level_name(best_simd_level()).data());
  return best_simd_level();
}

std::atomic<int>& level_slot() {
  static std::atomic<int> slot{static_cast<int>(initial_level())};
  return slot;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

SimdLevel best_simd_level() {
  static const SimdLevel best = detect_best();
  return best;
}

SimdLevel active_simd_level() {
  return static_cast<SimdLevel>(level_slot().load(std::memory_order_relaxed));
}

void set_simd_level(SimdLevel level) {
  level_slot().store(static_cast<int>(clamp(level)), std::memory_order_relaxed);
  g_forced.store(true, std::memory_order_relaxed);
}

void set_simd_level_auto() {
  level_slot().store(static_cast<int>(best_simd_level()), std::memory_order_relaxed);
  g_forced.store(false, std::memory_order_relaxed);
}

bool simd_level_forced() {
  (void)level_slot();  // MOE_SIMD read first
  return g_forced.load(std::memory_order_relaxed);
}

std::string_view simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::kScalar:
      return "scalar";
    case SimdLevel::kAvx2:
      return "avx2";
    case SimdLevel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

}  // namespace moe
