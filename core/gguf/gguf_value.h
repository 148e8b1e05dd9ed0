#pragma once
// A GGUF metadata value: a scalar, a string, or an array (of scalars, strings or arrays).
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace moe {

/// GGUF metadata value type ids (on-disk values).
// clang-format off
enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};
// clang-format on

const char* gguf_type_name(GgufType t);  ///< "u32", "string", "array", ... ; "type#N" unknown
/// Size in bytes of a scalar type on disk (0 for string/array/unknown ids).
size_t gguf_scalar_size(GgufType t);

struct GgufValue;
/// Homogeneous array; elem_type says what the elements are.
struct GgufArray {
  GgufType elem_type = GgufType::kUint8;
  std::vector<GgufValue> items;
};

struct GgufValue {
  GgufType type = GgufType::kUint8;
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> v;
  // Integers are stored widened (unsigned in uint64_t, signed in int64_t), floats in double;
  // `type` keeps the on-disk type so a writer round-trips it exactly.
};

/// Short human-readable rendering: scalars as text, strings quoted, arrays as
/// "[a, b, ... (N items)]" with at most `max_items` shown.
std::string gguf_value_to_string(const GgufValue& v, size_t max_items = 8);

struct GgufKv {
  std::string key;
  GgufValue value;
};

}  // namespace moe
