#include "core/gguf/gguf_value.h"

#include <cstdio>
#include <string>

namespace moe {

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
      return "u8";
    case GgufType::kInt8:
      return "i8";
    case GgufType::kUint16:
      return "u16";
    case GgufType::kInt16:
      return "i16";
    case GgufType::kUint32:
      return "u32";
    case GgufType::kInt32:
      return "i32";
    case GgufType::kFloat32:
      return "f32";
    case GgufType::kBool:
      return "bool";
    case GgufType::kString:
      return "string";
    case GgufType::kArray:
      return "array";
    case GgufType::kUint64:
      return "u64";
    case GgufType::kInt64:
      return "i64";
    case GgufType::kFloat64:
      return "f64";
  }
  return "unknown type";
}

size_t gguf_scalar_size(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return 0;
}

std::string gguf_value_to_string(const GgufValue& v, size_t max_items) {
  if (const auto* u = std::get_if<uint64_t>(&v.v)) return std::to_string(*u);
  if (const auto* i = std::get_if<int64_t>(&v.v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v.v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", *d);
    return buf;
  }
  if (const auto* b = std::get_if<bool>(&v.v)) return *b ? "true" : "false";
  if (const auto* s = std::get_if<std::string>(&v.v)) {
    constexpr size_t kMaxChars = 80;
    std::string out = "\"";
    out += s->size() > kMaxChars ? s->substr(0, kMaxChars) + "..." : *s;
    out += "\"";
    return out;
  }
  const auto& arr = std::get<GgufArray>(v.v);
  std::string out = "[";
  for (size_t k = 0; k < arr.items.size() && k < max_items; ++k) {
    if (k) out += ", ";
    out += gguf_value_to_string(arr.items[k], max_items);
  }
  if (arr.items.size() > max_items) out += ", ...";
  out += "] (" + std::to_string(arr.items.size()) + " " + gguf_type_name(arr.elem_type) + ")";
  return out;
}

}  // namespace moe
