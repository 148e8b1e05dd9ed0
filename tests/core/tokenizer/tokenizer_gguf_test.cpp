// TokenizerData survives GgufWriter -> GgufFile -> read_tokenizer_data unchanged.
#include <gtest/gtest.h>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "core/tokenizer/bundled_vocab.h"
#include "core/tokenizer/tokenizer.h"

namespace moe {
namespace {

void expect_same(const TokenizerData& a, const TokenizerData& b) {
  EXPECT_EQ(a.model, b.model);
  EXPECT_EQ(a.pre, b.pre);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_EQ(a.scores, b.scores);
  EXPECT_EQ(a.token_types, b.token_types);
  EXPECT_EQ(a.merges, b.merges);
  EXPECT_EQ(a.bos_id, b.bos_id);
  EXPECT_EQ(a.eos_id, b.eos_id);
  EXPECT_EQ(a.unk_id, b.unk_id);
  EXPECT_EQ(a.pad_id, b.pad_id);
  EXPECT_EQ(a.eot_id, b.eot_id);
  EXPECT_EQ(a.add_bos, b.add_bos);
  EXPECT_EQ(a.add_eos, b.add_eos);
  EXPECT_EQ(a.add_space_prefix, b.add_space_prefix);
  EXPECT_EQ(a.chat_template, b.chat_template);
}

TEST(TokenizerGguf, RoundTripsBothVocabularies) {
  for (const char* which : {"llama", "gpt2"}) {
    const TokenizerData data = *bundled_vocab(which);
    GgufWriter w;
    write_tokenizer_data(data, w);
    auto bytes = w.to_bytes();
    ASSERT_TRUE(bytes.ok()) << bytes.message();
    auto file = GgufFile::parse(*bytes, which);
    ASSERT_TRUE(file.ok()) << file.message();
    auto back = read_tokenizer_data(**file);
    ASSERT_TRUE(back.ok()) << back.message();
    expect_same(data, *back);
    auto tok = Tokenizer::create(std::move(*back));
    ASSERT_TRUE(tok.ok()) << tok.message();
    EXPECT_EQ((*tok)->decode((*tok)->encode("Sepsis: 30 mL/kg", false, false)), "Sepsis: 30 mL/kg");
  }
}

TEST(TokenizerGguf, ErrorsNameTheKey) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::parse(*bytes, "t.gguf");
  ASSERT_TRUE(file.ok()) << file.message();
  auto r = read_tokenizer_data(**file);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("tokenizer.ggml.tokens"), std::string::npos) << r.message();

  GgufWriter w2;
  w2.set_u32("tokenizer.ggml.model", 3);  // wrong type
  auto bytes2 = w2.to_bytes();
  ASSERT_TRUE(bytes2.ok());
  auto file2 = GgufFile::parse(*bytes2, "t2.gguf");
  ASSERT_TRUE(file2.ok());
  auto r2 = read_tokenizer_data(**file2);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.message().find("tokenizer.ggml.model"), std::string::npos) << r2.message();
}

// A GGUF file can declare millions of one-byte tokens; each would become a string and map
// entries (~100 bytes) in the tokenizer. Counts are checked before anything is copied out.
TEST(TokenizerGguf, HugeOrMismatchedArraysAreRejectedBeforeCopying) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", std::vector<std::string>((1u << 20) + 1));
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::parse(*bytes, "huge_vocab.gguf");
  ASSERT_TRUE(file.ok()) << file.message();
  auto r = read_tokenizer_data(**file);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("huge_vocab.gguf: tokenizer.ggml.tokens has 1048577 entries"),
            std::string::npos)
      << r.message();

  GgufWriter m;
  m.set_string("tokenizer.ggml.model", "llama");
  m.set_string_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  m.set_f32_array("tokenizer.ggml.scores", std::vector<float>(100000));
  auto mbytes = m.to_bytes();
  ASSERT_TRUE(mbytes.ok());
  auto mfile = GgufFile::parse(*mbytes, "mismatch.gguf");
  ASSERT_TRUE(mfile.ok());
  auto mr = read_tokenizer_data(**mfile);
  ASSERT_FALSE(mr.ok());
  EXPECT_NE(mr.message().find("tokenizer.ggml.scores has 100000 entries for 3 tokens"),
            std::string::npos)
      << mr.message();
}

TEST(TokenizerGguf, DefaultsWhenFlagsAreAbsent) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "gpt2");
  w.set_string_array("tokenizer.ggml.tokens", {"a", "b", "ab"});
  w.set_string_array("tokenizer.ggml.merges", {"a b"});
  auto bytes = w.to_bytes();
  ASSERT_TRUE(bytes.ok());
  auto file = GgufFile::parse(*bytes);
  ASSERT_TRUE(file.ok());
  auto d = read_tokenizer_data(**file);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_FALSE(d->add_bos);
  EXPECT_FALSE(d->add_space_prefix);
  EXPECT_EQ(d->bos_id, -1);
  auto tok = Tokenizer::create(std::move(*d));
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ((*tok)->encode("ab", false, false), (std::vector<int32_t>{2}));
}

}  // namespace
}  // namespace moe
