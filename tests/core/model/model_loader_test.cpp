// Model loading: the golden Mixtral file, its variants (per-expert tensor names, dense Llama,
// tied embeddings) rebuilt with GgufWriter, and broken files whose errors must name the problem.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>

#include "core/store/mapped_expert_store.h"
#include "core/engine/cpu_expert_executor.h"
#include "core/engine/session.h"
#include "core/gguf/gguf_writer.h"
#include "core/model/model.h"
#include "core/quant/quant.h"

namespace moe {
namespace {

const std::string kF32 = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";
const std::vector<int32_t> kTokens = {1, 290, 17, 45, 201, 88, 299, 3};

// A rewritten copy of the golden file: `edit_kv` may drop/replace metadata (return false to
// drop), `edit_tensor` may rename/drop/replace tensors (return false to drop).
struct Rewrite {
  std::function<bool(GgufKv&)> kv;
  std::function<bool(GgufWriter&, const TensorInfo&)> tensor;  // true: handled (added or dropped)
  std::function<void(GgufWriter&)> extra;                      // adds metadata
};

struct Built {
  std::vector<uint8_t> bytes;
  Result<std::unique_ptr<Model>> model = Error{"not built"};
};

std::unique_ptr<Built> build(const Rewrite& rw) {
  auto src = GgufFile::open(kF32);
  EXPECT_TRUE(src.ok()) << src.message();
  GgufWriter w;
  for (GgufKv kv : (*src)->metadata()) {
    if (kv.key == "general.alignment") continue;
    if (rw.kv && !rw.kv(kv)) continue;
    w.set_value(kv.key, kv.value);
  }
  if (rw.extra) rw.extra(w);
  for (const TensorInfo& t : (*src)->tensors()) {
    if (rw.tensor && rw.tensor(w, t)) continue;
    Status s = w.add_tensor(t.name, t.type, t.shape, {t.data, t.n_bytes});
    EXPECT_TRUE(s.ok()) << s.message();
  }
  auto out = std::make_unique<Built>();
  auto bytes = w.to_bytes();
  EXPECT_TRUE(bytes.ok()) << bytes.message();
  out->bytes = std::move(*bytes);
  auto f = GgufFile::parse(out->bytes, "variant.gguf");
  if (!f) {
    out->model = f.error();
    return out;
  }
  out->model = Model::from_file(std::move(*f));
  return out;
}

void expect_error(const Rewrite& rw, std::initializer_list<const char*> needles) {
  auto b = build(rw);
  ASSERT_FALSE(b->model.ok()) << "loaded a broken model";
  for (const char* n : needles) {
    EXPECT_NE(b->model.message().find(n), std::string::npos)
        << "error '" << b->model.message() << "' does not mention '" << n << "'";
  }
}

// Logits of the last of kTokens, with an optional selector.
std::vector<float> run(const Model& m, ExpertSelector* selector = nullptr, int k = 0) {
  ThreadPool pool(2);
  MappedExpertStore store(m);
  auto exec = CpuExpertExecutor::create(m, store, pool, 16);
  EXPECT_TRUE(exec.ok()) << exec.message();
  auto s = Session::create(m, pool, **exec, {64, 16});
  EXPECT_TRUE(s.ok());
  (*s)->set_routing({selector, k, 0});
  Status st = (*s)->eval(kTokens);
  EXPECT_TRUE(st.ok()) << st.message();
  auto l = (*s)->logits();
  return {l.begin(), l.end()};
}

TEST(ModelLoader, ReadsGoldenHyperparameters) {
  auto m = Model::load(kF32);
  ASSERT_TRUE(m.ok()) << m.message();
  const HParams& hp = (*m)->hparams();
  EXPECT_EQ(hp.arch, "llama");
  EXPECT_TRUE(hp.moe);
  EXPECT_EQ(hp.n_layer, 2);
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.n_head, 4);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_EQ(hp.head_dim, 16);
  EXPECT_EQ(hp.n_expert, 4);
  EXPECT_EQ(hp.n_expert_used, 2);
  EXPECT_EQ(hp.n_expert_ff, 64);
  EXPECT_EQ(hp.n_vocab, 300);
  EXPECT_EQ(hp.n_ctx_train, 128);
  EXPECT_EQ(hp.n_rot, 16);
  EXPECT_FLOAT_EQ(hp.rope_freq_base, 10000.0f);
  EXPECT_FLOAT_EQ(hp.rms_eps, 1e-5f);
  EXPECT_EQ((*m)->weight_types(), "F32");
  // Weights are views into the mapping, not copies.
  const uint8_t* base = (*m)->file().base();
  const uint8_t* p = (*m)->layer(1).experts[3].down.data;
  EXPECT_GE(p, base);
  EXPECT_LT(p, base + (*m)->file().file_size());
  EXPECT_EQ((*m)->expert_bytes(), 2u * 4 * 3 * 64 * 64 * 4);
}

TEST(ModelLoader, MissingFileErrorNamesIt) {
  auto m = Model::load("/nonexistent/model.gguf");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("/nonexistent/model.gguf"), std::string::npos) << m.message();
}

TEST(ModelLoader, MissingTensorIsNamed) {
  expect_error(
      {nullptr,
       [](GgufWriter&, const TensorInfo& t) { return t.name == "blk.1.ffn_down_exps.weight"; }},
      {"blk.1.ffn_down_exps.weight", "missing"});
  expect_error({nullptr, [](GgufWriter&,
                            const TensorInfo& t) { return t.name == "blk.0.attn_norm.weight"; }},
               {"blk.0.attn_norm.weight"});
}

TEST(ModelLoader, MisShapedTensorIsNamed) {
  expect_error({nullptr,
                [](GgufWriter& w, const TensorInfo& t) {
                  if (t.name != "blk.0.attn_k.weight") return false;
                  // {64, 32} -> {32, 64}: same bytes, wrong shape.
                  EXPECT_TRUE(w.add_tensor(t.name, t.type, {32, 64}, {t.data, t.n_bytes}).ok());
                  return true;
                }},
               {"blk.0.attn_k.weight", "{32, 64}", "expected {64, 32}"});
  expect_error({nullptr,
                [](GgufWriter& w, const TensorInfo& t) {
                  if (t.name != "blk.1.ffn_up_exps.weight") return false;
                  EXPECT_TRUE(w.add_tensor(t.name, t.type, {64, 128, 2}, {t.data, t.n_bytes}).ok());
                  return true;
                }},
               {"blk.1.ffn_up_exps.weight", "{64, 128, 2}"});
}

TEST(ModelLoader, MissingOrBadMetadataIsNamed) {
  expect_error({[](GgufKv& kv) { return kv.key != "llama.block_count"; }, nullptr},
               {"llama.block_count"});
  expect_error({[](GgufKv& kv) { return kv.key != "llama.expert_used_count"; }, nullptr},
               {"llama.expert_used_count"});
  expect_error({[](GgufKv& kv) {
                  if (kv.key == "llama.attention.head_count") kv.value.v = uint64_t{3};
                  return true;
                },
                nullptr},
               {"head_count"});
  expect_error({[](GgufKv& kv) {
                  if (kv.key == "general.architecture") kv.value.v = std::string("mamba");
                  return true;
                },
                nullptr},
               {"unsupported architecture", "mamba"});
}

TEST(ModelLoader, UnsupportedTensorTypeIsNamed) {
  expect_error({nullptr,
                [](GgufWriter& w, const TensorInfo& t) {
                  if (t.name != "blk.0.attn_q.weight") return false;
                  // 64x64 as IQ4_NL (18 bytes per 32): a type the engine cannot compute.
                  std::vector<uint8_t> raw(64 / 32 * 18 * 64);
                  EXPECT_TRUE(w.add_tensor(t.name, GgmlType::IQ4_NL, {64, 64}, raw).ok());
                  return true;
                }},
               {"blk.0.attn_q.weight", "IQ4_NL"});
}

// Splits the merged ffn_*_exps tensors into the older per-expert names blk.N.ffn_*.E.weight.
TEST(ModelLoader, PerExpertTensorNamesGiveTheSameLogits) {
  auto merged = Model::load(kF32);
  ASSERT_TRUE(merged.ok());
  auto b = build({nullptr, [](GgufWriter& w, const TensorInfo& t) {
                    const auto pos = t.name.find("_exps.weight");
                    if (pos == std::string::npos) return false;
                    const std::string stem = t.name.substr(0, pos);
                    const uint64_t per = t.n_bytes / static_cast<uint64_t>(t.ne(2));
                    for (int64_t e = 0; e < t.ne(2); ++e) {
                      EXPECT_TRUE(w.add_tensor(stem + "." + std::to_string(e) + ".weight", t.type,
                                               {t.ne(0), t.ne(1)}, {t.data + e * per, per})
                                      .ok());
                    }
                    return true;
                  }});
  ASSERT_TRUE(b->model.ok()) << b->model.message();
  EXPECT_EQ(run(**b->model), run(**merged));
  // The per-expert tensors are expert tensors to the store's warm-up (not found by name).
  uint64_t expert = 0;
  for (const TensorInfo& t : (*b->model)->file().tensors()) {
    if ((*b->model)->is_expert_tensor(t)) expert += t.n_bytes;
  }
  EXPECT_EQ(expert, (*b->model)->expert_bytes());
  EXPECT_EQ(expert, (*merged)->expert_bytes());
}

// Selects expert 0 with weight 1 for every token: the dense FFN case.
class FirstExpert final : public ExpertSelector {
 public:
  bool select(const SelectionInput&, ExpertSelection& out, SelectionEvent*) override {
    out.n = 1;
    out.experts[0] = 0;
    out.weights[0] = 1.0f;
    return false;
  }
  const char* name() const override { return "first"; }
};

TEST(ModelLoader, DenseLlamaIsTheOneExpertCase) {
  auto moe = Model::load(kF32);
  ASSERT_TRUE(moe.ok());
  auto b = build({[](GgufKv& kv) {
                    return kv.key != "llama.expert_count" && kv.key != "llama.expert_used_count";
                  },
                  [](GgufWriter& w, const TensorInfo& t) {
                    if (t.name.find("ffn_gate_inp") != std::string::npos) return true;  // drop
                    const auto pos = t.name.find("_exps.weight");
                    if (pos == std::string::npos) return false;
                    const uint64_t per = t.n_bytes / static_cast<uint64_t>(t.ne(2));
                    EXPECT_TRUE(w.add_tensor(t.name.substr(0, pos) + ".weight", t.type,
                                             {t.ne(0), t.ne(1)}, {t.data, per})
                                    .ok());
                    return true;
                  }});
  ASSERT_TRUE(b->model.ok()) << b->model.message();
  EXPECT_FALSE((*b->model)->hparams().moe);
  EXPECT_EQ((*b->model)->hparams().n_expert, 1);
  FirstExpert first;
  const auto dense = run(**b->model), routed = run(**moe, &first);
  ASSERT_EQ(dense.size(), routed.size());
  for (size_t i = 0; i < dense.size(); ++i) EXPECT_NEAR(dense[i], routed[i], 1e-5f) << i;
}

// attn_v and ffn_up_exps re-quantized to Q8_0 while the rest stays F32: Q/K/V no longer share
// an activation format (separate projections) and neither do gate and up (two prepared inputs).
TEST(ModelLoader, MixedActivationFormatsPerLayer) {
  auto f32 = Model::load(kF32);
  ASSERT_TRUE(f32.ok());
  auto b = build({nullptr, [](GgufWriter& w, const TensorInfo& t) {
                    if (t.name.find("attn_v") == std::string::npos &&
                        t.name.find("ffn_up_exps") == std::string::npos) {
                      return false;
                    }
                    const int64_t n = t.ne(0), rows = t.n_elements / n;
                    std::vector<uint8_t> q(row_bytes(GgmlType::Q8_0, n) * rows);
                    const auto* src = reinterpret_cast<const float*>(t.data);
                    for (int64_t r = 0; r < rows; ++r) {
                      EXPECT_TRUE(quantize_row(GgmlType::Q8_0, src + r * n,
                                               q.data() + r * row_bytes(GgmlType::Q8_0, n), n));
                    }
                    EXPECT_TRUE(w.add_tensor(t.name, GgmlType::Q8_0, t.shape, q).ok());
                    return true;
                  }});
  ASSERT_TRUE(b->model.ok()) << b->model.message();
  EXPECT_EQ((*b->model)->layer(0).wv.type, GgmlType::Q8_0);
  EXPECT_EQ((*b->model)->weight_types(), "mixed F32/Q8_0");
  const auto ref = run(**f32), mixed = run(**b->model);
  float max_ref = 0, max_diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_ref = std::max(max_ref, std::fabs(ref[i]));
    max_diff = std::max(max_diff, std::fabs(ref[i] - mixed[i]));
  }
  EXPECT_GT(max_diff, 0.0f);  // the quantized path really ran
  EXPECT_LE(max_diff / max_ref, 2e-2f);
}

TEST(ModelLoader, TiedEmbeddingsWithoutOutputTensor) {
  auto b =
      build({nullptr, [](GgufWriter&, const TensorInfo& t) { return t.name == "output.weight"; }});
  ASSERT_TRUE(b->model.ok()) << b->model.message();
  EXPECT_EQ((*b->model)->output().data, (*b->model)->tok_embd().data);
}

TEST(ModelLoader, LinearRopeScalingIsReadOtherKindsRejected) {
  Rewrite lin;
  lin.extra = [](GgufWriter& w) {
    w.set_string("llama.rope.scaling.type", "linear");
    w.set_f32("llama.rope.scaling.factor", 4.0f);
  };
  auto b = build(lin);
  ASSERT_TRUE(b->model.ok()) << b->model.message();
  EXPECT_FLOAT_EQ((*b->model)->hparams().rope_freq_scale, 0.25f);
  Rewrite yarn;
  yarn.extra = [](GgufWriter& w) { w.set_string("llama.rope.scaling.type", "yarn"); };
  expect_error(yarn, {"rope scaling", "yarn"});
}

}  // namespace
}  // namespace moe
