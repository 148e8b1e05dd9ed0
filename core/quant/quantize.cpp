// quantize_row: the per-type dispatch, plus the plain float formats. Reference quantizers for
// the block formats are in quantize_legacy.cpp and quantize_k.cpp. Q8_K (the activation format)
// is produced by quantize_activation (act_quant*), not here.
#include <cstring>

#include "core/quant/fp16_inline.h"
#include "core/quant/quant.h"
#include "core/quant/quant_ref.h"
#include "core/util/check.h"

namespace moe {

bool quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  const TypeTraits* traits = type_traits(type);
  if (traits == nullptr || n < 0 || n % traits->block_size != 0) return false;
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return true;
    case GgmlType::F16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = fp16::from_fp32(src[i]);
      return true;
    }
    case GgmlType::BF16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) h[i] = fp16::bf16_from_fp32(src[i]);
      return true;
    }
    case GgmlType::Q4_0:
      ref::quantize_row_q4_0(src, static_cast<BlockQ4_0*>(dst), n);
      return true;
    case GgmlType::Q4_1:
      ref::quantize_row_q4_1(src, static_cast<BlockQ4_1*>(dst), n);
      return true;
    case GgmlType::Q5_0:
      ref::quantize_row_q5_0(src, static_cast<BlockQ5_0*>(dst), n);
      return true;
    case GgmlType::Q5_1:
      ref::quantize_row_q5_1(src, static_cast<BlockQ5_1*>(dst), n);
      return true;
    case GgmlType::Q8_0:
      ref::quantize_row_q8_0(src, static_cast<BlockQ8_0*>(dst), n);
      return true;
    case GgmlType::Q2_K:
      ref::quantize_row_q2_K(src, static_cast<BlockQ2_K*>(dst), n);
      return true;
    case GgmlType::Q3_K:
      ref::quantize_row_q3_K(src, static_cast<BlockQ3_K*>(dst), n);
      return true;
    case GgmlType::Q4_K:
      ref::quantize_row_q4_K(src, static_cast<BlockQ4_K*>(dst), n);
      return true;
    case GgmlType::Q5_K:
      ref::quantize_row_q5_K(src, static_cast<BlockQ5_K*>(dst), n);
      return true;
    case GgmlType::Q6_K:
      ref::quantize_row_q6_K(src, static_cast<BlockQ6_K*>(dst), n);
      return true;
    default:
      return false;
  }
}

}  // namespace moe
