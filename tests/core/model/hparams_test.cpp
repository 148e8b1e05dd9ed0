// Hyperparameters that would make every logit NaN or Inf are refused when the file is read:
// RoPE base and linear scaling factor must be finite and > 0, also as the float the engine
// computes with (1e300 is a finite double but an infinite float).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "core/model/hparams.h"

namespace moe {
namespace {

const std::string kF32 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";

// The golden model's metadata (no tensors: read_hparams reads only metadata) plus `extra`.
Result<HParams> hparams_with(const std::function<void(GgufWriter&)>& extra) {
  auto src = GgufFile::open(kF32);
  EXPECT_TRUE(src.ok()) << src.message();
  GgufWriter w;
  for (const GgufKv& kv : (*src)->metadata()) {
    if (kv.key != "general.alignment") w.set_value(kv.key, kv.value);
  }
  extra(w);
  auto bytes = w.to_bytes();
  EXPECT_TRUE(bytes.ok()) << bytes.message();
  auto f = GgufFile::parse(*bytes, "variant.gguf");
  if (!f.ok()) return f.error();
  return read_hparams(**f);
}

std::string error_of(const std::function<void(GgufWriter&)>& extra) {
  auto hp = hparams_with(extra);
  return hp.ok() ? std::string("(accepted)") : hp.message();
}

TEST(HParams, RopeBaseMustBeFiniteAndPositive) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const double base : {inf, -inf, std::nan(""), 0.0, -5.0, 1e300}) {
    const std::string e = error_of([&](GgufWriter& w) { w.set_f64("llama.rope.freq_base", base); });
    EXPECT_NE(e.find("variant.gguf: rope.freq_base"), std::string::npos) << base << ": " << e;
    EXPECT_NE(e.find("must be a finite number > 0"), std::string::npos) << base << ": " << e;
  }
  auto ok = hparams_with([](GgufWriter& w) { w.set_f32("llama.rope.freq_base", 1e6f); });
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(ok->rope_freq_base, 1e6f);
}

TEST(HParams, RopeScalingFactorMustBeFiniteAndPositive) {
  const double inf = std::numeric_limits<double>::infinity();
  for (const double factor : {inf, std::nan(""), 0.0, -2.0, 1e300, 1e-300}) {
    const std::string linear = error_of([&](GgufWriter& w) {
      w.set_string("llama.rope.scaling.type", "linear");
      w.set_f64("llama.rope.scaling.factor", factor);
    });
    EXPECT_NE(linear.find("rope scaling factor"), std::string::npos) << factor << ": " << linear;
    const std::string old_key =
        error_of([&](GgufWriter& w) { w.set_f64("llama.rope.scale_linear", factor); });
    EXPECT_NE(old_key.find("rope scaling factor"), std::string::npos) << factor << ": " << old_key;
  }
  auto ok = hparams_with([](GgufWriter& w) {
    w.set_string("llama.rope.scaling.type", "linear");
    w.set_f32("llama.rope.scaling.factor", 4.0f);
  });
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_FLOAT_EQ(ok->rope_freq_scale, 0.25f);
}

}  // namespace
}  // namespace moe
