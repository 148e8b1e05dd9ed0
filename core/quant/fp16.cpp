// Public half / bfloat16 conversions (core/quant/quant.h); the arithmetic lives inline in
// fp16_inline.h so that the scalar kernels can use it without a call per value.
#include "core/quant/fp16_inline.h"
#include "core/quant/quant.h"

namespace moe {

uint16_t fp32_to_fp16(float x) {
  return fp16::from_fp32(x);
}
float fp16_to_fp32(uint16_t h) {
  return fp16::to_fp32(h);
}
uint16_t fp32_to_bf16(float x) {
  return fp16::bf16_from_fp32(x);
}
float bf16_to_fp32(uint16_t h) {
  return fp16::bf16_to_fp32(h);
}

}  // namespace moe
