#pragma once
// Rows of floats on the wire (the ε of WDMoE eq. 5: bytes per transferred element): f32
// (exact; remote experts then give logits bit-identical to local ones), f16 and bf16 (round to
// nearest even, as ggml converts), or int8 with one f32 scale per row (symmetric: scale =
// max|x| / 127, q = round(x / scale); error at most scale / 2 per element).
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "netlink/byte_io.h"

namespace moe::net {

enum class WireType : uint8_t { kF32 = 0, kF16 = 1, kBF16 = 2, kI8 = 3 };
const char* wire_type_name(WireType t);
/// "f32" | "f16" | "bf16" | "int8" -> type; false for anything else.
bool parse_wire_type(std::string_view name, WireType* out);
/// Bytes of one row of `cols` elements.
uint64_t wire_row_bytes(WireType t, uint32_t cols);

/// type u8 | rows u32 | cols u32 | data. x holds rows * cols floats.
void encode_rows(WireType type, std::span<const float> x, uint32_t rows, uint32_t cols,
                 ByteWriter& w);

struct RowLimits {
  uint32_t max_rows = 1u << 16;
  uint32_t max_cols = 1u << 16;
};
/// Reads what encode_rows wrote into `out` (resized to rows * cols). Fails the reader on an
/// unknown type, a shape over the limits or data that does not match the shape; the data size
/// is checked against the bytes left before anything is allocated.
void decode_rows(ByteReader& r, const RowLimits& limits, std::vector<float>& out, uint32_t* rows,
                 uint32_t* cols, WireType* type = nullptr);

}  // namespace moe::net
