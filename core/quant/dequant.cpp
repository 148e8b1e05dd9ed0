// dequantize_row: the per-type dispatch, plus the plain float formats. The block kernels are in
// dequant_legacy.cpp (32-element blocks) and dequant_k.cpp (256-element K-quant super-blocks).
#include <cstring>

#include "core/quant/fp16_inline.h"
#include "core/quant/quant.h"
#include "core/quant/quant_ref.h"
#include "core/util/check.h"

namespace moe {

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  const TypeTraits* traits = type_traits(type);
  MOE_CHECK(traits != nullptr && n >= 0 && n % traits->block_size == 0,
            "dequantize_row: unknown type or n not a multiple of the block size");
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16::to_fp32(h[i]);
      return;
    }
    case GgmlType::BF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int64_t i = 0; i < n; ++i) dst[i] = fp16::bf16_to_fp32(h[i]);
      return;
    }
    case GgmlType::Q4_0:
      return ref::dequantize_row_q4_0(static_cast<const BlockQ4_0*>(src), dst, n);
    case GgmlType::Q4_1:
      return ref::dequantize_row_q4_1(static_cast<const BlockQ4_1*>(src), dst, n);
    case GgmlType::Q5_0:
      return ref::dequantize_row_q5_0(static_cast<const BlockQ5_0*>(src), dst, n);
    case GgmlType::Q5_1:
      return ref::dequantize_row_q5_1(static_cast<const BlockQ5_1*>(src), dst, n);
    case GgmlType::Q8_0:
      return ref::dequantize_row_q8_0(static_cast<const BlockQ8_0*>(src), dst, n);
    case GgmlType::Q2_K:
      return ref::dequantize_row_q2_K(static_cast<const BlockQ2_K*>(src), dst, n);
    case GgmlType::Q3_K:
      return ref::dequantize_row_q3_K(static_cast<const BlockQ3_K*>(src), dst, n);
    case GgmlType::Q4_K:
      return ref::dequantize_row_q4_K(static_cast<const BlockQ4_K*>(src), dst, n);
    case GgmlType::Q5_K:
      return ref::dequantize_row_q5_K(static_cast<const BlockQ5_K*>(src), dst, n);
    case GgmlType::Q6_K:
      return ref::dequantize_row_q6_K(static_cast<const BlockQ6_K*>(src), dst, n);
    case GgmlType::Q8_K:
      return ref::dequantize_row_q8_K(static_cast<const BlockQ8_K*>(src), dst, n);
    default:
      break;
  }
  // Loaders reject non-computable types by name before any kernel runs; reaching here is a bug.
  MOE_CHECK(false, "dequantize_row: type has no dequantizer");
}

}  // namespace moe
