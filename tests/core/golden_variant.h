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

/// Writes MOE_BINARY_DIR/`name`: the golden model with `edit(tensor name, its floats)` applied
/// to every tensor. Returns the path.
inline std::string write_golden_variant(
    const std::string& name,
    const std::function<void(const std::string&, std::vector<float>&)>& edit) {
  auto src = GgufFile::open(kGoldenF32);
  EXPECT_TRUE(src.ok()) << src.message();
  GgufWriter w;
  for (const GgufKv& kv : (*src)->metadata()) {
    if (kv.key != "general.alignment") w.set_value(kv.key, kv.value);
  }
  for (const TensorInfo& t : (*src)->tensors()) {
    EXPECT_EQ(t.n_bytes % sizeof(float), 0u) << t.name;
    std::vector<float> v(t.n_bytes / sizeof(float));
    std::memcpy(v.data(), t.data, t.n_bytes);
    edit(t.name, v);
    std::vector<uint8_t> bytes(t.n_bytes);
    std::memcpy(bytes.data(), v.data(), t.n_bytes);
    const Status s = w.add_tensor(t.name, t.type, t.shape, bytes);
    EXPECT_TRUE(s.ok()) << s.message();
  }
  const std::string path = std::string(MOE_BINARY_DIR) + "/" + name;
  const Status s = w.write(path);
  EXPECT_TRUE(s.ok()) << s.message();
  return path;
}

}  // namespace moe::test
