#include "netlink/activation_codec.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "core/quant/quant.h"

namespace moe::net {

const char* wire_type_name(WireType t) {
  switch (t) {
    case WireType::kF32: return "f32";
    case WireType::kF16: return "f16";
    case WireType::kBF16: return "bf16";
    case WireType::kI8: return "int8";
  }
  return "?";
}

bool parse_wire_type(std::string_view name, WireType* out) {
  for (WireType t : {WireType::kF32, WireType::kF16, WireType::kBF16, WireType::kI8}) {
    if (name == wire_type_name(t)) {
      *out = t;
      return true;
    }
  }
  return false;
}

uint64_t wire_row_bytes(WireType t, uint32_t cols) {
  switch (t) {
    case WireType::kF32: return uint64_t{4} * cols;
    case WireType::kF16:
    case WireType::kBF16: return uint64_t{2} * cols;
    case WireType::kI8: return uint64_t{4} + cols;
  }
  return 0;
}

void encode_rows(WireType type, std::span<const float> x, uint32_t rows, uint32_t cols,
                 ByteWriter& w) {
  w.put(static_cast<uint8_t>(type));
  w.put(rows);
  w.put(cols);
  for (uint32_t r = 0; r < rows; ++r) {
    const float* row = x.data() + size_t{r} * cols;
    switch (type) {
      case WireType::kF32:
        w.bytes({reinterpret_cast<const uint8_t*>(row), size_t{cols} * 4});
        break;
      case WireType::kF16:
        for (uint32_t c = 0; c < cols; ++c) w.put(fp32_to_fp16(row[c]));
        break;
      case WireType::kBF16:
        for (uint32_t c = 0; c < cols; ++c) w.put(fp32_to_bf16(row[c]));
        break;
      case WireType::kI8: {
        float amax = 0;
        for (uint32_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(row[c]));
        const float scale = amax / 127.0f;
        const float inv = scale > 0 ? 1.0f / scale : 0.0f;
        w.put(scale);
        for (uint32_t c = 0; c < cols; ++c) {
          w.put(static_cast<int8_t>(std::lrintf(std::clamp(row[c] * inv, -127.0f, 127.0f))));
        }
        break;
      }
    }
  }
}

void decode_rows(ByteReader& r, const RowLimits& limits, std::vector<float>& out, uint32_t* rows,
                 uint32_t* cols, WireType* type_out) {
  const auto type_byte = r.get<uint8_t>("element type");
  *rows = r.get<uint32_t>("row count");
  *cols = r.get<uint32_t>("column count");
  if (!r.ok()) return;
  if (type_byte > static_cast<uint8_t>(WireType::kI8)) {
    r.fail("element type", "is unknown");
    return;
  }
  const auto type = static_cast<WireType>(type_byte);
  if (type_out != nullptr) *type_out = type;
  if (*rows > limits.max_rows || *cols > limits.max_cols) {
    r.fail("row shape", "is over the limits");
    return;
  }
  const uint64_t need = uint64_t{*rows} * wire_row_bytes(type, *cols);
  if (need > r.remaining()) {
    r.fail("row data", "is shorter than its shape");
    return;
  }
  out.resize(size_t{*rows} * *cols);
  if (out.empty()) return;
  for (uint32_t i = 0; i < *rows; ++i) {
    float* row = out.data() + size_t{i} * *cols;
    switch (type) {
      case WireType::kF32: {
        const auto b = r.bytes(size_t{*cols} * 4, "row data");
        std::memcpy(row, b.data(), b.size());
        break;
      }
      case WireType::kF16:
        for (uint32_t c = 0; c < *cols; ++c) row[c] = fp16_to_fp32(r.get<uint16_t>("row data"));
        break;
      case WireType::kBF16:
        for (uint32_t c = 0; c < *cols; ++c) row[c] = bf16_to_fp32(r.get<uint16_t>("row data"));
        break;
      case WireType::kI8: {
        const float scale = r.get<float>("row scale");
        if (!std::isfinite(scale)) {
          r.fail("row scale", "is not finite");
          return;
        }
        for (uint32_t c = 0; c < *cols; ++c) row[c] = scale * r.get<int8_t>("row data");
        break;
      }
    }
  }
}

}  // namespace moe::net
