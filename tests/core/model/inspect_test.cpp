// inspect: expert-tensor naming (merged and per-expert layouts), byte accounting, JSON/text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "core/model/inspect.h"

namespace moe {
namespace {

TEST(Inspect, ExpertTensorNames) {
  EXPECT_EQ(expert_tensor_layer("blk.0.ffn_gate_exps.weight"), 0);
  EXPECT_EQ(expert_tensor_layer("blk.31.ffn_down_exps.weight"), 31);
  EXPECT_EQ(expert_tensor_layer("blk.7.ffn_up.3.weight"), 7);  // older per-expert layout
  EXPECT_EQ(expert_tensor_layer("blk.12.ffn_down.11.weight"), 12);
  EXPECT_EQ(expert_tensor_layer("blk.0.ffn_gate_inp.weight"), -1);  // the router is not an expert
  EXPECT_EQ(expert_tensor_layer("blk.0.ffn_gate.weight"), -1);      // dense FFN
  EXPECT_EQ(expert_tensor_layer("blk.0.ffn_gate_exps.bias"), -1);
  EXPECT_EQ(expert_tensor_layer("blk.0.ffn_gate_shexp.weight"), -1);
  EXPECT_EQ(expert_tensor_layer("blk..ffn_up_exps.weight"), -1);
  EXPECT_EQ(expert_tensor_layer("blk.1.ffn_up.x.weight"), -1);
  EXPECT_EQ(expert_tensor_layer("output.weight"), -1);
}

// An older-style Mixtral: per-expert F16 tensors blk.N.ffn_{gate,up,down}.E.weight.
TEST(Inspect, PerExpertLayoutAndJson) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "old-mixtral");
  w.set_u32("llama.block_count", 2);
  w.set_u32("llama.embedding_length", 32);
  w.set_u32("llama.feed_forward_length", 64);
  w.set_u32("llama.expert_count", 2);
  w.set_u32("llama.expert_used_count", 1);
  w.set_f32("llama.rope.freq_base", 1e6f);
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  auto zeros = [](size_t n) { return std::vector<uint8_t>(n); };
  ASSERT_TRUE(w.add_tensor("token_embd.weight", GgmlType::F16, {32, 3}, zeros(192)).ok());
  for (int l = 0; l < 2; ++l) {
    for (int e = 0; e < 2; ++e) {
      for (const char* p : {"gate", "up"}) {
        const std::string n =
            "blk." + std::to_string(l) + ".ffn_" + p + "." + std::to_string(e) + ".weight";
        ASSERT_TRUE(w.add_tensor(n, GgmlType::F16, {32, 64}, zeros(32 * 64 * 2)).ok());
      }
      const std::string d =
          "blk." + std::to_string(l) + ".ffn_down." + std::to_string(e) + ".weight";
      // Layer 1's down projections are Q8_0 so the per-layer figures differ.
      if (l == 0) {
        ASSERT_TRUE(w.add_tensor(d, GgmlType::F16, {64, 32}, zeros(64 * 32 * 2)).ok());
      } else {
        ASSERT_TRUE(w.add_tensor(d, GgmlType::Q8_0, {64, 32}, zeros(64 * 32 / 32 * 34)).ok());
      }
    }
  }
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes.ok());
  auto f = GgufFile::parse(*bytes, "old.gguf");
  ASSERT_TRUE(f.ok()) << f.message();
  auto s = summarize_model(**f);
  ASSERT_TRUE(s.ok()) << s.message();
  const uint64_t f16_mat = 32 * 64 * 2, q8_mat = 64 * 32 / 32 * 34;
  ASSERT_EQ(s->experts_per_layer.size(), 2u);
  EXPECT_EQ(s->experts_per_layer[0].bytes, 2 * (3 * f16_mat));
  EXPECT_EQ(s->experts_per_layer[0].n_tensors, 6);
  EXPECT_EQ(s->experts_per_layer[1].bytes, 2 * (2 * f16_mat + q8_mat));
  EXPECT_EQ(s->non_expert_bytes, 192u);
  EXPECT_EQ(s->vocab_size, 3);  // from the token list (no llama.vocab_size)
  EXPECT_EQ(s->tokenizer_model, "gpt2");
  EXPECT_EQ(s->rope_freq_base, 1e6);
  EXPECT_EQ(s->head_count, 0);  // absent keys read as 0

  const nlohmann::json j = summary_to_json(*s);
  EXPECT_EQ(j["name"], "old-mixtral");
  EXPECT_EQ(j["hparams"]["expert_count"], 2);
  EXPECT_EQ(j["hparams"]["feed_forward_length"], 64);
  EXPECT_EQ(j["experts_per_layer"][1]["bytes"], 2 * (2 * f16_mat + q8_mat));
  EXPECT_EQ(j["expert_bytes"].get<uint64_t>() + j["non_expert_bytes"].get<uint64_t>(),
            j["tensor_bytes"].get<uint64_t>());
  EXPECT_EQ(j["types"][0]["type"], "F16");
  EXPECT_EQ(j["types"][0]["count"], 11);  // embeddings + 6 (layer 0) + 4 (layer 1) F16
  const std::string text = summary_to_text(*s);
  EXPECT_NE(text.find("old-mixtral"), std::string::npos);
  EXPECT_NE(text.find("layer   1:"), std::string::npos);  // per-layer lines when they differ
}

TEST(Inspect, WrongTypedKeyIsAnError) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("llama.block_count", "many");
  auto bytes = w.to_bytes();
  auto f = GgufFile::parse(*bytes, "typed.gguf");
  ASSERT_TRUE(f.ok());
  auto s = summarize_model(**f);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("llama.block_count"), std::string::npos);
  EXPECT_NE(s.message().find("typed.gguf"), std::string::npos);
}

}  // namespace
}  // namespace moe
