#pragma once
// Reader for tests/fixtures/quant/*.bin (written by tools/make_quant_fixtures.py):
// "MQFX", u32 version, u32 kind, u32 type, u32 n_rows, u32 n_per_row, u64 in_bytes,
// u64 out_bytes, input bytes, output bytes (little-endian).
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace moe::test {

struct QuantFixture {
  uint32_t kind = 0;  ///< 0: dequant (input raw, output f32); 1: quantize (input f32, output raw)
  uint32_t type = 0;
  uint32_t n_rows = 0, n_per_row = 0;
  std::vector<uint8_t> input, output;
};

/// Loads fixture `name` from MOE_FIXTURE_DIR/quant; nullopt (with `why` set) if missing/bad.
inline std::optional<QuantFixture> load_quant_fixture(const std::string& name, std::string* why) {
  const std::string path = std::string(MOE_FIXTURE_DIR) + "/quant/" + name;
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *why = "cannot open " + path;
    return std::nullopt;
  }
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  constexpr size_t kHeader = 4 + 5 * 4 + 2 * 8;
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), "MQFX", 4) != 0) {
    *why = path + ": not an MQFX fixture";
    return std::nullopt;
  }
  uint32_t u[5];
  uint64_t sizes[2];
  std::memcpy(u, bytes.data() + 4, sizeof(u));
  std::memcpy(sizes, bytes.data() + 24, sizeof(sizes));
  if (u[0] != 1 || bytes.size() != kHeader + sizes[0] + sizes[1]) {
    *why = path + ": unsupported version or truncated";
    return std::nullopt;
  }
  QuantFixture fx;
  fx.kind = u[1];
  fx.type = u[2];
  fx.n_rows = u[3];
  fx.n_per_row = u[4];
  const uint8_t* p = bytes.data() + kHeader;
  fx.input.assign(p, p + sizes[0]);
  fx.output.assign(p + sizes[0], p + sizes[0] + sizes[1]);
  return fx;
}

}  // namespace moe::test
