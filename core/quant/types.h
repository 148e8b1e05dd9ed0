#pragma once
// ggml tensor types as stored in GGUF (ids are the on-disk values) and their block geometry.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace moe {

/// On-disk tensor type ids (ggml's enum ggml_type). Values not listed are unknown.
enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

/// Geometry and capabilities of one type.
struct TypeTraits {
  GgmlType type;
  std::string_view name;   ///< "Q4_K", as ggml and the gguf package spell it
  int64_t block_size;      ///< elements per block (1 for plain types)
  size_t type_size;        ///< bytes per block
  bool computable;         ///< this engine can dequantize it and take dot products with it
};

/// Traits of a type id read from a file; nullptr when the id is unknown.
const TypeTraits* type_traits(uint32_t id);
inline const TypeTraits* type_traits(GgmlType t) { return type_traits(static_cast<uint32_t>(t)); }
std::string_view type_name(GgmlType t);  ///< "Q4_K"; "type#N" when unknown

/// Bytes of one row of n elements (n must be a multiple of the block size).
size_t row_bytes(GgmlType t, int64_t n);

}  // namespace moe
