#pragma once
// A copy of the golden tiny Mixtral (tests/fixtures/golden/mixtral_tiny_f32.gguf, every tensor
// F32) with some weights overwritten, written to MOE_BINARY_DIR: the models that tests of
// NaN / Inf / overflowing weights run. Header-only; used by tests/core/engine and
// tests/core/frontend.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"

namespace moe::test {

inline const std::string kGoldenF32 =
    std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";

/// Writes a copy of the golden F32 model to MOE_BINARY_DIR/`name`: every metadata entry passes
/// through `edit_kv` (false drops it), every tensor's bytes through `edit_tensor` if given.
/// Returns the path.
inline std::string write_golden_copy(
    const std::string& name, const std::function<bool(GgufKv&)>& edit_kv,
    const std::function<void(const TensorInfo&, std::vector<uint8_t>&)>& edit_tensor = {}) {
  auto src = GgufFile::open(kGoldenF32);
  EXPECT_TRUE(src.ok()) << src.message();
  GgufWriter w;
  for (GgufKv kv : (*src)->metadata()) {
    if (edit_kv(kv)) w.set_value(kv.key, kv.value);
  }
  for (const TensorInfo& t : (*src)->tensors()) {
    std::vector<uint8_t> bytes(t.data, t.data + t.n_bytes);
    if (edit_tensor) edit_tensor(t, bytes);
    const Status s = w.add_tensor(t.name, t.type, t.shape, bytes);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  const std::string path = std::string(MOE_BINARY_DIR) + "/" + name;
  const Status s = w.write(path);
  EXPECT_TRUE(s.ok()) << s.message();
  return path;
}

/// Writes MOE_BINARY_DIR/`name`: the golden model with `edit(tensor name, its floats)` applied
/// to every tensor. Returns the path.
inline std::string write_golden_variant(
    const std::string& name,
    const std::function<void(const std::string&, std::vector<float>&)>& edit) {
  return write_golden_copy(
      name, [](GgufKv& kv) { return kv.key != "general.alignment"; },
      [&](const TensorInfo& t, std::vector<uint8_t>& bytes) {
        EXPECT_EQ(t.n_bytes % sizeof(float), 0u) << t.name;
        std::vector<float> v(t.n_bytes / sizeof(float));
        std::memcpy(v.data(), bytes.data(), t.n_bytes);
        edit(t.name, v);
        std::memcpy(bytes.data(), v.data(), t.n_bytes);
      });
}

}  // namespace moe::test
