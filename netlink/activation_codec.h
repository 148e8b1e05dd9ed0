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
/// The same in pieces, for rows that are not contiguous (the host gathers the tokens a device
/// needs straight from the batch into the frame): the header, then `rows` calls of encode_row.
void encode_rows_header(WireType type, uint32_t rows, uint32_t cols, ByteWriter& w);
void encode_row(WireType type, const float* row, uint32_t cols, ByteWriter& w);

struct RowLimits {
  uint32_t max_rows = 1u << 16;
  uint32_t max_cols = 1u << 16;
};
/// Reads what encode_rows wrote into `out` (resized to rows * cols). Fails the reader on an
/// unknown type, a shape over the limits or data that does not match the shape; the data size
/// is checked against the bytes left before anything is allocated.
void decode_rows(ByteReader& r, const RowLimits& limits, std::vector<float>& out, uint32_t* rows,
                 uint32_t* cols, WireType* type = nullptr);

/// Rows read in place: the shape checked and the data located, each row decoded on demand
/// straight to where the caller wants it (no intermediate [rows, cols] copy).
struct RowsView {
  WireType type = WireType::kF32;
  uint32_t rows = 0, cols = 0;
  std::span<const uint8_t> data;  ///< rows * wire_row_bytes(type, cols)
  /// Row i as floats into out[0, cols).
  void row(size_t i, float* out) const;
};
/// Reads the header and takes the data as a view; fails the reader as decode_rows does
/// (including an int8 row scale that is not finite, checked here for every row).
RowsView view_rows(ByteReader& r, const RowLimits& limits);

}  // namespace moe::net
