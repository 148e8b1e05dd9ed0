#include "netlink/activation_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
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

void encode_rows_header(WireType type, uint32_t rows, uint32_t cols, ByteWriter& w) {
  w.put(static_cast<uint8_t>(type));
  w.put(rows);
  w.put(cols);
}

void encode_row(WireType type, const float* row, uint32_t cols, ByteWriter& w) {
  uint8_t* p = w.extend(wire_row_bytes(type, cols));
  switch (type) {
    case WireType::kF32:
      std::memcpy(p, row, size_t{cols} * 4);
      break;
    case WireType::kF16:
      for (uint32_t c = 0; c < cols; ++c) {
        const uint16_t h = fp32_to_fp16(row[c]);
        std::memcpy(p + 2 * size_t{c}, &h, 2);
      }
      break;
    case WireType::kBF16:
      for (uint32_t c = 0; c < cols; ++c) {
        const uint16_t h = fp32_to_bf16(row[c]);
        std::memcpy(p + 2 * size_t{c}, &h, 2);
      }
      break;
    case WireType::kI8: {
      float amax = 0;
      for (uint32_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(row[c]));
      const float scale = amax / 127.0f;
      const float inv = scale > 0 ? 1.0f / scale : 0.0f;
      std::memcpy(p, &scale, 4);
      for (uint32_t c = 0; c < cols; ++c) {
        p[4 + c] = static_cast<uint8_t>(
            static_cast<int8_t>(std::lrintf(std::clamp(row[c] * inv, -127.0f, 127.0f))));
      }
      break;
    }
  }
}

void encode_rows(WireType type, std::span<const float> x, uint32_t rows, uint32_t cols,
                 ByteWriter& w) {
  encode_rows_header(type, rows, cols, w);
  for (uint32_t r = 0; r < rows; ++r) encode_row(type, x.data() + size_t{r} * cols, cols, w);
}

RowsView view_rows(ByteReader& r, const RowLimits& limits) {
  RowsView v;
  const auto type_byte = r.get<uint8_t>("element type");
  v.rows = r.get<uint32_t>("row count");
  v.cols = r.get<uint32_t>("column count");
  if (!r.ok()) return {};
  if (type_byte > static_cast<uint8_t>(WireType::kI8)) {
    r.fail("element type", "is unknown");
    return {};
  }
  v.type = static_cast<WireType>(type_byte);
  if (v.rows > limits.max_rows || v.cols > limits.max_cols) {
    r.fail("row shape", "is over the limits");
    return {};
  }
  const uint64_t row_bytes = wire_row_bytes(v.type, v.cols);
  if (uint64_t{v.rows} * row_bytes > r.remaining()) {
    r.fail("row data", "is shorter than its shape");
    return {};
  }
  v.data = r.bytes(size_t{v.rows} * row_bytes, "row data");
  if (v.type == WireType::kI8) {
    for (uint32_t i = 0; i < v.rows; ++i) {
      float scale;
      std::memcpy(&scale, v.data.data() + i * row_bytes, 4);
      if (!std::isfinite(scale)) {
        r.fail("row scale", "is not finite");
        return {};
      }
    }
  }
  return v;
}

void RowsView::row(size_t i, float* out) const {
  if (cols == 0) return;  // an empty row: no bytes, possibly no buffer (memcpy of null)
  const size_t row_bytes = wire_row_bytes(type, cols);
  const uint8_t* p = data.data() + i * row_bytes;
  switch (type) {
    case WireType::kF32:
      std::memcpy(out, p, size_t{cols} * 4);
      break;
    case WireType::kF16:
    case WireType::kBF16:
      for (uint32_t c = 0; c < cols; ++c) {
        uint16_t h;
        std::memcpy(&h, p + 2 * size_t{c}, 2);
        out[c] = type == WireType::kF16 ? fp16_to_fp32(h) : bf16_to_fp32(h);
      }
      break;
    case WireType::kI8: {
      float scale;
      std::memcpy(&scale, p, 4);
      for (uint32_t c = 0; c < cols; ++c) out[c] = scale * static_cast<int8_t>(p[4 + c]);
      break;
    }
  }
}

void decode_rows(ByteReader& r, const RowLimits& limits, std::vector<float>& out, uint32_t* rows,
                 uint32_t* cols, WireType* type_out) {
  const RowsView v = view_rows(r, limits);
  *rows = v.rows;
  *cols = v.cols;
  if (type_out != nullptr) *type_out = v.type;
  if (!r.ok()) return;
  out.resize(size_t{v.rows} * v.cols);
  if (out.empty()) return;
  for (uint32_t i = 0; i < v.rows; ++i) v.row(i, out.data() + size_t{i} * v.cols);
}

}  // namespace moe::net
