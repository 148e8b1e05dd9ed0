// Files written by another writer (the gguf Python package, tools/make_golden_mixtral.py) parse,
// and their directory is consistent with their metadata.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/gguf/gguf_file.h"

namespace moe {
namespace {

TEST(GgufForeignFiles, PythonWrittenMixtralFixtures) {
  int seen = 0;
  for (const char* name : {"golden/mixtral_tiny_f32.gguf", "golden/mixtral_tiny_q8_0.gguf"}) {
    const std::string path = std::string(MOE_FIXTURE_DIR) + "/" + name;
    if (!std::filesystem::exists(path)) continue;
    ++seen;
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.ok()) << f.message();
    const GgufFile& g = **f;
    EXPECT_EQ(*g.get_string("general.architecture"), "llama");
    const uint64_t n_expert = *g.get_uint("llama.expert_count");
    const uint64_t n_embd = *g.get_uint("llama.embedding_length");
    const TensorInfo* gate = g.find_tensor("blk.0.ffn_gate_exps.weight");
    ASSERT_NE(gate, nullptr);
    EXPECT_EQ(uint64_t(gate->ne(2)), n_expert);
    EXPECT_EQ(uint64_t(gate->ne(0)), n_embd);
    EXPECT_EQ(uint64_t(g.find_tensor("token_embd.weight")->ne(1)),
              g.get_string_array("tokenizer.ggml.tokens")->size());
    for (const auto& t : g.tensors()) {
      EXPECT_EQ((t.offset - g.data_offset()) % g.alignment(), 0u) << t.name;
      EXPECT_LE(t.offset + t.n_bytes, g.file_size()) << t.name;
    }
  }
  if (seen == 0) GTEST_SKIP() << "no golden fixtures in " << MOE_FIXTURE_DIR;
}

}  // namespace
}  // namespace moe
