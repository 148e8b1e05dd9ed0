// The model generator against figures computed here, independently, from the preset shapes and
// the ggml block sizes; determinism; weights dequantize to the intended distributions.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/gguf/gguf_file.h"
#include "core/model/inspect.h"
#include "core/model/model_generator.h"
#include "core/quant/quant.h"

namespace moe {
namespace {

// ggml block geometry written out by hand (not from type_traits): {block elements, bytes}.
uint64_t bytes_of(std::string_view type, uint64_t elements) {
  if (type == "F32") return elements * 4;
  if (type == "F16") return elements * 2;
  if (type == "Q8_0") return elements / 32 * 34;
  if (type == "Q4_0") return elements / 32 * 18;
  if (type == "Q4_K") return elements / 256 * 144;
  if (type == "Q6_K") return elements / 256 * 210;
  ADD_FAILURE() << "unexpected type " << type;
  return 0;
}

std::string out_path(const std::string& name) {
  const auto dir = std::filesystem::path(MOE_BINARY_DIR) / "model_generator_test";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::unique_ptr<GgufFile> open_ok(const std::string& path) {
  auto f = GgufFile::open(path);
  EXPECT_TRUE(f.ok()) << f.message();
  return f.ok() ? std::move(*f) : nullptr;
}

class DemoModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    GenerateOptions opt;
    opt.preset = *model_preset("demo");
    opt.mix = WeightMix::kQ4_K_M;
    opt.seed = 42;
    path_ = out_path("demo_q4_k_m.gguf");
    auto st = generate_model(opt, path_);
    ASSERT_TRUE(st.ok()) << st.message();
  }
  static std::string path_;
};
std::string DemoModel::path_;

TEST_F(DemoModel, MetadataIsLlamaMixtral) {
  auto f = open_ok(path_);
  ASSERT_TRUE(f);
  EXPECT_EQ(*f->get_string("general.architecture"), "llama");
  EXPECT_EQ(*f->get_uint("general.file_type"), 15u);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  EXPECT_EQ(*f->get_uint("llama.embedding_length"), 256u);
  EXPECT_EQ(*f->get_uint("llama.block_count"), 4u);
  EXPECT_EQ(*f->get_uint("llama.feed_forward_length"), 512u);
  EXPECT_EQ(*f->get_uint("llama.attention.head_count"), 8u);
  EXPECT_EQ(*f->get_uint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(*f->get_uint("llama.expert_count"), 8u);
  EXPECT_EQ(*f->get_uint("llama.expert_used_count"), 2u);
  EXPECT_EQ(*f->get_uint("llama.context_length"), 2048u);
  EXPECT_EQ(*f->get_uint("llama.rope.dimension_count"), 32u);
  EXPECT_FLOAT_EQ(static_cast<float>(*f->get_float("llama.rope.freq_base")), 10000.f);
  EXPECT_FLOAT_EQ(static_cast<float>(*f->get_float("llama.attention.layer_norm_rms_epsilon")),
                  1e-5f);
  EXPECT_TRUE(*f->get_bool("moe.random_weights"));
  EXPECT_EQ(*f->get_string("tokenizer.ggml.model"), "llama");
  const auto tokens = *f->get_string_array("tokenizer.ggml.tokens");
  EXPECT_EQ(*f->get_uint("llama.vocab_size"), tokens.size());
  EXPECT_NE(f->get_string("tokenizer.chat_template")->find("[INST]"), std::string::npos);
  EXPECT_EQ(f->find_tensor("token_embd.weight")->ne(1), static_cast<int64_t>(tokens.size()));
  EXPECT_EQ(f->find_tensor("output.weight")->ne(1), static_cast<int64_t>(tokens.size()));
}

TEST_F(DemoModel, TensorShapesTypesAndSizes) {
  auto f = open_ok(path_);
  ASSERT_TRUE(f);
  const uint64_t V = *f->get_uint("llama.vocab_size");
  const uint64_t E = 256, F = 512, X = 8, KV = 128, L = 4;
  EXPECT_EQ(f->tensors().size(), 3 + 10 * L);
  struct Want {
    const char* name;
    const char* type;
    std::vector<int64_t> shape;
  };
  const std::vector<Want> want = {
      {"token_embd.weight", "Q4_K", {256, int64_t(V)}},
      {"output.weight", "Q6_K", {256, int64_t(V)}},
      {"output_norm.weight", "F32", {256}},
      {"blk.3.attn_norm.weight", "F32", {256}},
      {"blk.3.attn_q.weight", "Q4_K", {256, 256}},
      {"blk.3.attn_k.weight", "Q4_K", {256, 128}},
      {"blk.3.attn_v.weight", "Q4_K", {256, 128}},
      {"blk.3.attn_output.weight", "Q4_K", {256, 256}},
      {"blk.3.ffn_norm.weight", "F32", {256}},
      {"blk.3.ffn_gate_inp.weight", "F32", {256, 8}},
      {"blk.3.ffn_gate_exps.weight", "Q4_K", {256, 512, 8}},
      {"blk.3.ffn_up_exps.weight", "Q4_K", {256, 512, 8}},
      {"blk.3.ffn_down_exps.weight", "Q6_K", {512, 256, 8}},
  };
  for (const auto& w : want) {
    const TensorInfo* t = f->find_tensor(w.name);
    ASSERT_NE(t, nullptr) << w.name;
    EXPECT_EQ(type_name(t->type), w.type) << w.name;
    EXPECT_EQ(t->shape, w.shape) << w.name;
    uint64_t n = 1;
    for (int64_t d : w.shape) n *= uint64_t(d);
    EXPECT_EQ(t->n_bytes, bytes_of(w.type, n)) << w.name;
  }
  // Inspect's figures against the same arithmetic.
  auto s = summarize_model(*f);
  ASSERT_TRUE(s.ok()) << s.message();
  const uint64_t expert_layer = 2 * bytes_of("Q4_K", E * F * X) + bytes_of("Q6_K", F * E * X);
  EXPECT_EQ(expert_layer, 2039808u);
  ASSERT_EQ(s->experts_per_layer.size(), L);
  for (const auto& l : s->experts_per_layer) {
    EXPECT_EQ(l.bytes, expert_layer);
    EXPECT_EQ(l.n_tensors, 3);
  }
  EXPECT_EQ(s->expert_bytes, L * expert_layer);
  const uint64_t attn = bytes_of("Q4_K", 2 * E * E + 2 * E * KV);
  const uint64_t per_layer_other = attn + bytes_of("F32", 2 * E + E * X);
  const uint64_t other =
      L * per_layer_other + bytes_of("Q4_K", E * V) + bytes_of("Q6_K", E * V) + bytes_of("F32", E);
  EXPECT_EQ(s->non_expert_bytes, other);
  EXPECT_EQ(s->tensor_bytes, other + L * expert_layer);
  EXPECT_LE(s->tensor_bytes, s->file_size);
  EXPECT_EQ(s->n_params,
            int64_t(2 * E * V + E + L * (2 * E * E + 2 * E * KV + 2 * E + E * X + 3 * E * F * X)));
  EXPECT_EQ(s->vocab_size, int64_t(V));
  EXPECT_EQ(s->expert_count, 8);
  EXPECT_EQ(s->head_count_kv, 4);
  ASSERT_GE(s->types.size(), 3u);
  EXPECT_EQ(s->types[0].type, "Q4_K");  // largest first
  EXPECT_EQ(s->types[0].count, 1 + 6 * int64_t(L));
}

TEST_F(DemoModel, WeightsHaveTheIntendedDistribution) {
  auto f = open_ok(path_);
  ASSERT_TRUE(f);
  // Expert gate rows: normal, std 1/sqrt(256) = 0.0625 (Q4_K adds ~10% noise).
  const TensorInfo* g = f->find_tensor("blk.1.ffn_gate_exps.weight");
  std::vector<float> row(256);
  double sum = 0, sum2 = 0;
  const int rows = 64;
  for (int r = 0; r < rows; ++r) {
    dequantize_row(g->type, g->data + r * 144 * 1, row.data(), 256);
    for (float x : row) {
      ASSERT_TRUE(std::isfinite(x));
      sum += x;
      sum2 += double(x) * x;
    }
  }
  const double n = rows * 256.0, mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(sd, 0.0625, 0.0625 * 0.15);
  const TensorInfo* norm = f->find_tensor("blk.2.ffn_norm.weight");
  const float* gains = reinterpret_cast<const float*>(norm->data);
  for (int i = 0; i < 256; ++i) EXPECT_NEAR(gains[i], 1.0f, 0.15f);
}

TEST(ModelGenerator, DeterministicForSeedAndThreadCount) {
  GenerateOptions opt;
  opt.preset = *model_preset("demo");
  opt.preset.n_layer = 1;
  opt.mix = WeightMix::kQ8_0;
  opt.seed = 7;
  opt.n_threads = 1;
  auto a = build_model_writer(opt)->to_bytes();
  opt.n_threads = 2;
  auto b = build_model_writer(opt)->to_bytes();
  opt.seed = 8;
  auto c = build_model_writer(opt)->to_bytes();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);
  EXPECT_EQ(a->size(), c->size());
}

TEST(ModelGenerator, FallsBackWhenRowsAreNotWholeSuperBlocks) {
  GenerateOptions opt;
  opt.preset = ModelPreset{"tiny", 64, 1, 4, 2, 96, 4, 2, 128, 0, 10000.0, 1e-5};
  opt.mix = WeightMix::kQ4_K_M;
  auto bytes = build_model_writer(opt)->to_bytes();
  ASSERT_TRUE(bytes.ok()) << bytes.message();
  auto f = GgufFile::parse(*bytes, "tiny.gguf");
  ASSERT_TRUE(f.ok()) << f.message();
  EXPECT_EQ((*f)->find_tensor("blk.0.attn_q.weight")->type, GgmlType::Q4_0);  // 64 % 256 != 0
  EXPECT_EQ((*f)->find_tensor("blk.0.ffn_down_exps.weight")->type, GgmlType::Q8_0);  // Q6_K->Q8_0
  EXPECT_EQ((*f)->find_tensor("output.weight")->type, GgmlType::Q8_0);
  EXPECT_EQ((*f)->find_tensor("blk.0.ffn_gate_inp.weight")->type, GgmlType::F32);
  EXPECT_EQ(choose_matrix_type(WeightMix::kQ8_0, "attn_q", 48), GgmlType::F16);  // 48 % 32
  EXPECT_EQ(choose_matrix_type(WeightMix::kQ4_K_M, "output", 4096), GgmlType::Q6_K);
  EXPECT_EQ(choose_matrix_type(WeightMix::kQ4_0, "attn_k", 4096), GgmlType::Q4_0);
  EXPECT_EQ(choose_matrix_type(WeightMix::kF16, "output", 100), GgmlType::F16);
}

TEST(ModelGenerator, PresetsAndErrors) {
  auto big = model_preset("mixtral-8x7b");
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->n_embd, 4096);
  EXPECT_EQ(big->n_ff, 14336);
  EXPECT_EQ(big->n_vocab, 32000);
  EXPECT_EQ(big->n_head_kv, 8);
  EXPECT_FALSE(model_preset("gpt-5").ok());
  EXPECT_FALSE(parse_weight_mix("q3_k").ok());
  // The 8x7b writer is built without producing any weights: 32000-token padded vocab, 323
  // tensors.
  GenerateOptions opt;
  opt.preset = *big;
  auto w = build_model_writer(opt);
  ASSERT_TRUE(w.ok()) << w.message();
  EXPECT_EQ(w->n_tensors(), 3u + 10u * 32u);
  GenerateOptions bad = opt;
  bad.preset.n_head_kv = 5;
  EXPECT_FALSE(build_model_writer(bad).ok());
  bad = opt;
  bad.vocab = "nope";
  EXPECT_FALSE(build_model_writer(bad).ok());
  // Quantization threads are bounded (make-model --threads 100000 spawned a thread per row).
  for (const int threads : {0, -1, 100000}) {
    bad = opt;
    bad.n_threads = threads;
    auto r = build_model_writer(bad);
    ASSERT_FALSE(r.ok()) << threads;
    EXPECT_NE(r.message().find("threads: " + std::to_string(threads) + " is outside [1, 1024]"),
              std::string::npos)
        << r.message();
  }
}

}  // namespace
}  // namespace moe
