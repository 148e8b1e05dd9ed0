#include "core/engine/attention_kernels.h"

#include <algorithm>

#include "core/quant/cpu_features.h"
#include "core/quant/quant.h"

namespace moe::attn {
namespace {

inline float to_f32(float x) {
  return x;
}
inline float to_f32(uint16_t h) {
  return fp16_to_fp32(h);
}

template <class T>
void scores(const float* q, int g, const T* k, size_t stride, int n_pos, int hd, float scale,
            float* s, size_t s_stride) {
  for (int p = 0; p < n_pos; ++p) {
    const T* kp = k + static_cast<size_t>(p) * stride;
    for (int h = 0; h < g; ++h) {
      const float* qh = q + static_cast<size_t>(h) * hd;
      float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};  // 8 lanes, as the SIMD version
      int i = 0;
      for (; i + 8 <= hd; i += 8) {
        for (int j = 0; j < 8; ++j) acc[j] += qh[i + j] * to_f32(kp[i + j]);
      }
      float d = 0;
      for (int j = 0; j < 8; ++j) d += acc[j];
      for (; i < hd; ++i) d += qh[i] * to_f32(kp[i]);
      s[static_cast<size_t>(h) * s_stride + p] = d * scale;
    }
  }
}

template <class T>
void mix(const float* w, size_t w_stride, int g, const T* v, size_t stride, int n_pos, int hd,
         float* o) {
  std::fill(o, o + static_cast<size_t>(g) * hd, 0.0f);
  for (int p = 0; p < n_pos; ++p) {
    const T* vp = v + static_cast<size_t>(p) * stride;
    for (int h = 0; h < g; ++h) {
      const float wp = w[static_cast<size_t>(h) * w_stride + p];
      float* oh = o + static_cast<size_t>(h) * hd;
      for (int i = 0; i < hd; ++i) oh[i] += wp * to_f32(vp[i]);
    }
  }
}

void to_f16(const float* src, uint16_t* dst, int n) {
  for (int i = 0; i < n; ++i) dst[i] = fp32_to_fp16(src[i]);
}

}  // namespace

const Kernels& scalar_kernels() {
  static const Kernels k{{scores<float>, mix<float>}, {scores<uint16_t>, mix<uint16_t>}, to_f16};
  return k;
}

const Kernels& kernels() {
  static const Kernels& k = [&]() -> const Kernels& {
    const CpuFeatures& f = cpu_features();
    if (active_simd_level() >= SimdLevel::kAvx512 && f.f16c && f.fma) return avx512_kernels();
    if (active_simd_level() >= SimdLevel::kAvx2 && f.f16c && f.fma) return avx2_kernels();
    return scalar_kernels();
  }();
  return k;
}

}  // namespace moe::attn
