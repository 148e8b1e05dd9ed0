// Token ids of the bundled vocabularies against the Hugging Face `tokenizers` reference
// (tests/fixtures/tokenizer/golden_*.json, made by tools/make_tokenizer_golden.py).
#include <fstream>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "core/tokenizer/bundled_vocab.h"
#include "core/tokenizer/tokenizer.h"

namespace moe {
namespace {

nlohmann::json load_fixture(const std::string& name) {
  std::ifstream in(std::string(MOE_FIXTURE_DIR) + "/tokenizer/" + name);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  return nlohmann::json::parse(in);
}

std::unique_ptr<Tokenizer> make(std::string_view which, std::string pre = {}) {
  auto data = bundled_vocab(which);
  EXPECT_TRUE(data.ok()) << data.message();
  if (!pre.empty()) data->pre = pre;
  auto tok = Tokenizer::create(std::move(*data));
  EXPECT_TRUE(tok.ok()) << tok.message();
  return std::move(*tok);
}

void expect_golden(const Tokenizer& tok, const nlohmann::json& cases, const char* key,
                   bool round_trip) {
  int n = 0;
  for (const auto& c : cases) {
    const std::string text = c["text"];
    const bool special = c["special"];
    const auto expected = c[key].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(text, /*add_bos=*/false, /*parse_special=*/true), expected)
        << "text: \"" << text << "\"";
    if (round_trip && !special && text.find("\xE2\x96\x81") == std::string::npos) {
      EXPECT_EQ(tok.decode(tok.encode(text, false, false)), text);
    }
    ++n;
  }
  EXPECT_GE(n, 160);
}

TEST(TokenizerGolden, LlamaSpmMatchesTokenizers) {
  const auto tok = make("llama");
  expect_golden(*tok, load_fixture("golden_llama.json")["cases"], "ids", true);
}

TEST(TokenizerGolden, Gpt2LlamaBpeMatchesTokenizers) {
  const auto tok = make("gpt2");
  ASSERT_EQ(tok->data().pre, "llama-bpe");
  expect_golden(*tok, load_fixture("golden_gpt2.json")["cases"], "ids_llama_bpe", true);
}

TEST(TokenizerGolden, Gpt2RegexMatchesTokenizers) {
  const auto tok = make("gpt2", "gpt2");
  expect_golden(*tok, load_fixture("golden_gpt2.json")["cases"], "ids_gpt2", true);
}

TEST(TokenizerGolden, BundledVocabShape) {
  auto llama = bundled_vocab("llama");
  ASSERT_TRUE(llama.ok());
  EXPECT_EQ(llama->tokens.size(), 8000u);
  EXPECT_EQ(llama->tokens[0], "<unk>");
  EXPECT_EQ(llama->tokens[1], "<s>");
  EXPECT_EQ(llama->tokens[2], "</s>");
  EXPECT_EQ(llama->tokens[3], "<0x00>");
  EXPECT_EQ(llama->tokens[258], "<0xFF>");
  EXPECT_EQ(llama->token_types[3], static_cast<int32_t>(TokenType::kByte));
  EXPECT_EQ(llama->scores.size(), 8000u);
  auto gpt2 = bundled_vocab("gpt2");
  ASSERT_TRUE(gpt2.ok());
  EXPECT_EQ(gpt2->tokens.size(), 8000u);
  EXPECT_EQ(gpt2->tokens[1], "<|im_start|>");
  EXPECT_EQ(gpt2->eos_id, 2);
  EXPECT_GT(gpt2->merges.size(), 7000u);
  auto bad = bundled_vocab("bert");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("bert"), std::string::npos);
}

TEST(TokenizerGolden, Qwen2RegexMatchesTokenizers) {
  const auto tok = make("gpt2", "qwen2");
  expect_golden(*tok, load_fixture("golden_gpt2.json")["cases"], "ids_qwen2", true);
}

}  // namespace
}  // namespace moe
