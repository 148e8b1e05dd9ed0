// read_text_tokens (core/engine/text_tokens.h): a token limit reads and encodes only a prefix,
// and its tokens are exactly the first N of the whole file's encoding; FIFOs, devices and
// files over the size limit are refused at once (alarm(): a hang fails instead of stalling).
#include "core/engine/text_tokens.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/tokenizer/bundled_vocab.h"
#include "tests/core/tokenizer/counting_tokenizer.h"
#include "tests/core/temp_dir_test.h"

namespace moe {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Tokenizer> bundled(std::string_view which) {
  auto data = bundled_vocab(which);
  EXPECT_TRUE(data.ok()) << data.message();
  auto tok = Tokenizer::create(std::move(*data));
  EXPECT_TRUE(tok.ok()) << tok.message();
  return std::move(*tok);
}

// Prose with what makes a tokenizer's end of text special: line breaks (single, double,
// CRLF), runs of spaces and tabs, digits, punctuation, 2-, 3- and 4-byte UTF-8, and long words.
std::string varied_text(size_t bytes, uint32_t seed) {
  // clang-format off
  static const char* kPieces[] = {
      "The patient", " was admitted", " with fever", ",", " cough", " and", " shortness",
      " of breath", ".", "\n", "\n\n", "\r\n", "   ", "\t", " 12345", " 3.14159", " café",
      " naïve", " 中文字符", " 😀🎉", " — ", "!!", " (x-ray)", " supercalifragilistic",
      " pneumonoultramicroscopicsilicovolcanoconiosis", "    indented", " ünïcödé", "'s"};
  // clang-format on
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < bytes) s += kPieces[rng() % std::size(kPieces)];
  return s;
}

class TextTokens : public test::TempDirTest {
 protected:
  TextTokens() : TempDirTest("moe_text_tokens_", 120) {}
};

TEST_F(TextTokens, APrefixGivesTheFirstNTokensOfTheWholeText) {
  for (const char* vocab : {"llama", "gpt2"}) {
    auto tok = bundled(vocab);
    for (uint32_t seed : {1u, 2u, 3u}) {
      const std::string text = varied_text(150000, seed);
      const std::string path = write("varied.txt", text);
      const std::vector<int32_t> all = tok->encode(text, true, false);
      ASSERT_GT(all.size(), 20000u);
      for (const int n : {2, 3, 10, 64, 100, 777, 1000, 4000, 9999, 20000}) {
        TextTokensOptions o;
        o.max_tokens = n;
        auto got = read_text_tokens(path, *tok, o);
        ASSERT_TRUE(got.ok()) << got.message();
        ASSERT_EQ(got->size(), static_cast<size_t>(n));
        EXPECT_TRUE(std::equal(got->begin(), got->end(), all.begin()))
            << vocab << " seed " << seed << " n " << n;
      }
      TextTokensOptions whole;
      auto got = read_text_tokens(path, *tok, whole);
      ASSERT_TRUE(got.ok()) << got.message();
      EXPECT_EQ(*got, all);
      whole.max_tokens = static_cast<int>(all.size()) + 5;  // more than the text has: all of it
      EXPECT_EQ(*read_text_tokens(path, *tok, whole), all);
    }
  }
}

// No line break or space to cut at: the prefix ends between two UTF-8 characters.
TEST_F(TextTokens, APrefixOfOneLongWordIsCutBetweenCharacters) {
  std::string word;
  std::mt19937 rng(7);
  static const char* kChars[] = {"a", "b", "é", "中", "😀", "x", "yz"};
  while (word.size() < 60000) word += kChars[rng() % std::size(kChars)];
  const std::string path = write("word.txt", word);
  for (const char* vocab : {"llama", "gpt2"}) {
    auto tok = bundled(vocab);
    const std::vector<int32_t> all = tok->encode(word, true, false);
    for (const int n : {5, 300, 3000}) {
      TextTokensOptions o;
      o.max_tokens = n;
      auto got = read_text_tokens(path, *tok, o);
      ASSERT_TRUE(got.ok()) << got.message();
      EXPECT_TRUE(std::equal(got->begin(), got->end(), all.begin())) << vocab << " n " << n;
    }
  }
}

// The 20 MB text with -n 10 used to be tokenized whole (870 MB RSS in moe-cli perplexity).
TEST_F(TextTokens, ATokenLimitEncodesOnlyAPrefix) {
  const std::string path = write("big.txt", varied_text(20u << 20, 4));
  CountingTokenizer tok(bundled("llama"));
  TextTokensOptions o;
  o.max_tokens = 10;
  auto got = read_text_tokens(path, tok, o);
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_EQ(got->size(), 10u);
  EXPECT_LT(tok.bytes_, 8u << 10) << "bytes encoded for 10 tokens";
  tok.bytes_ = 0;
  o.max_tokens = 100000;
  ASSERT_TRUE(read_text_tokens(path, tok, o).ok());
  EXPECT_LT(tok.bytes_, 4u << 20) << "bytes encoded for 100000 tokens";
}

TEST_F(TextTokens, DevicesFifosAndHugeFilesAreRefusedAtOnce) {
  auto tok = bundled("llama");
  auto zero = read_text_tokens("/dev/zero", *tok, {});
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.message(),
            "/dev/zero: is a character device, not a regular file; give a text file");
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  TextTokensOptions n10;
  n10.max_tokens = 10;
  auto f = read_text_tokens(fifo, *tok, n10);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.message().find("is a FIFO (named pipe), not a regular file"), std::string::npos);

  const std::string path = write("text.txt", varied_text(300000, 5));
  TextTokensOptions small;
  small.max_bytes = 100000;
  small.too_large_hint = "use -n N";
  auto whole = read_text_tokens(path, *tok, small);
  ASSERT_FALSE(whole.ok());
  EXPECT_EQ(whole.message(),
            path + ": the text file is 293.0 KiB; the limit is 97.7 KiB (use -n N)")
      << whole.message();
  small.max_tokens = 100;  // a prefix within the limit is fine
  auto prefix = read_text_tokens(path, *tok, small);
  ASSERT_TRUE(prefix.ok()) << prefix.message();
  small.max_tokens = 200000;  // more tokens than 100 KB of text holds
  auto over = read_text_tokens(path, *tok, small);
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.message().find("the first 200000 tokens need more than 97.7 KiB of text"),
            std::string::npos)
      << over.message();
  auto tiny = read_text_tokens(write("empty.txt", ""), *tok, {});
  ASSERT_FALSE(tiny.ok());
  EXPECT_NE(tiny.message().find("need at least 2 tokens"), std::string::npos);
}

}  // namespace
}  // namespace moe
