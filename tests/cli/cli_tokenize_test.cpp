// `moe-cli tokenize` end to end: a vocab-only GGUF (tokenizer metadata, no tensors) written here
// from the bundled SentencePiece vocabulary, the ids checked against the library tokenizer's
// encode(), the effect of --no-bos / --no-parse-special / escapes, the output formats, and
// clear errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "core/gguf/gguf_writer.h"
#include "core/tokenizer/bundled_vocab.h"
#include "core/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using moe::cli_test::Output;
using moe::cli_test::run_cli;
using moe::cli_test::sh_quote;

const std::string kText =
    "<s>[INST] The patient has a fever of 39.5 \xC2\xB0"
    "C \xF0\x9F\xA6\x96 [/INST]";

class CliTokenize : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("moe_cli_tok_" + std::to_string(getpid()));
    fs::create_directories(dir_);
    auto data = moe::bundled_vocab("llama");
    ASSERT_TRUE(data.ok()) << data.message();
    moe::GgufWriter w;
    w.set_string("general.architecture", "llama");
    w.set_string("general.name", "vocab only");
    moe::write_tokenizer_data(*data, w);
    vocab_ = (dir_ / "vocab.gguf").string();
    ASSERT_TRUE(w.write(vocab_).ok());
    auto tok = moe::Tokenizer::create(*data);
    ASSERT_TRUE(tok.ok()) << tok.message();
    tok_ = std::move(tok).value().release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    fs::remove_all(dir_);
  }
  static std::vector<int32_t> ids_of(const std::string& args) {
    const Output o = run_cli("tokenize " + args + " --ids");
    EXPECT_EQ(o.rc, 0) << o.err;
    const auto j = nlohmann::json::parse(o.out, nullptr, false);  // "[1, 2, 3]" is JSON too
    EXPECT_FALSE(j.is_discarded()) << o.out;
    return j.is_discarded() ? std::vector<int32_t>{} : j.get<std::vector<int32_t>>();
  }
  static fs::path dir_;
  static std::string vocab_;
  static moe::Tokenizer* tok_;
};
fs::path CliTokenize::dir_;
std::string CliTokenize::vocab_;
moe::Tokenizer* CliTokenize::tok_ = nullptr;

TEST_F(CliTokenize, VocabOnlyFileGivesTheTokenizersIds) {
  const std::vector<int32_t> want = tok_->encode(kText, true, true);
  ASSERT_EQ(want.front(), tok_->bos());
  EXPECT_EQ(ids_of("-m " + vocab_ + " --vocab-only -p " + sh_quote(kText)), want);
  EXPECT_EQ(ids_of("-m " + vocab_ + " -p " + sh_quote(kText)), want);  // the flag changes nothing
  const std::string file = (dir_ / "text.txt").string();
  std::ofstream(file, std::ios::binary) << kText;
  EXPECT_EQ(ids_of("-m " + vocab_ + " -f " + file), want);
}

TEST_F(CliTokenize, NoBosAndNoParseSpecial) {
  const std::string p = " -p " + sh_quote(kText);
  const std::vector<int32_t> with = ids_of("-m " + vocab_ + p);
  const std::vector<int32_t> no_bos = ids_of("-m " + vocab_ + p + " --no-bos");
  EXPECT_EQ(no_bos, tok_->encode(kText, false, true));
  EXPECT_EQ(std::vector<int32_t>(with.begin() + 1, with.end()), no_bos);  // only the BOS goes
  // Parsed, the text "<s>" is the BOS token itself; unparsed it is "<", "s", ">" pieces.
  ASSERT_GE(with.size(), 2u);
  EXPECT_EQ(with[1], tok_->bos());
  const std::vector<int32_t> plain = ids_of("-m " + vocab_ + p + " --no-parse-special");
  EXPECT_EQ(plain, tok_->encode(kText, true, false));
  EXPECT_EQ(std::count(plain.begin(), plain.end(), tok_->bos()), 1);  // only the added one
  EXPECT_GT(plain.size(), with.size());
}

TEST_F(CliTokenize, PromptEscapesAreProcessedUnlessNoEscape) {
  EXPECT_EQ(ids_of("-m " + vocab_ + " -p " + sh_quote("a\\nb")), tok_->encode("a\nb", true, true));
  EXPECT_EQ(ids_of("-m " + vocab_ + " --no-escape -p " + sh_quote("a\\nb")),
            tok_->encode("a\\nb", true, true));
}

TEST_F(CliTokenize, DefaultLinesAreLlamaTokenizes) {
  const Output o =
      run_cli("tokenize -m " + vocab_ + " -p " + sh_quote("Hello world") + " --show-count");
  ASSERT_EQ(o.rc, 0) << o.err;
  std::string want;
  const std::vector<int32_t> ids = tok_->encode("Hello world", true, true);
  for (int32_t id : ids) {
    char head[32];
    std::snprintf(head, sizeof head, "%6d -> '", id);
    want += head + tok_->token_bytes(id) + "'\n";
  }
  want += "Total number of tokens: " + std::to_string(ids.size()) + "\n";
  EXPECT_EQ(o.out, want);
  EXPECT_EQ(o.out.substr(0, 15), "     1 -> '<s>'");
}

TEST_F(CliTokenize, JsonGivesInvalidUtf8PiecesAsBytes) {
  const Output o = run_cli("tokenize -m " + vocab_ + " -p " + sh_quote(kText) + " --json");
  ASSERT_EQ(o.rc, 0) << o.err;
  const auto j = nlohmann::json::parse(o.out);
  const std::vector<int32_t> ids = tok_->encode(kText, true, true);
  ASSERT_EQ(j.size(), ids.size());
  int byte_pieces = 0;
  std::string joined;
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(j[i]["id"], ids[i]);
    const std::string bytes = tok_->token_bytes(ids[i]);
    if (j[i]["piece"].is_array()) {  // the emoji's byte-fallback tokens, one byte each
      ++byte_pieces;
      std::string got;
      for (const auto& b : j[i]["piece"]) got += static_cast<char>(b.get<int>());
      EXPECT_EQ(got, bytes);
      joined += got;
    } else {
      EXPECT_EQ(j[i]["piece"].get<std::string>(), bytes);
      joined += bytes;
    }
  }
  EXPECT_GE(byte_pieces, 2);
  EXPECT_NE(joined.find("\xF0\x9F\xA6\x96"), std::string::npos);  // the bytes add up again
}

TEST_F(CliTokenize, AModelFileWorksToo) {
  const std::string model = std::string(MOE_FIXTURE_DIR) + "/golden/mixtral_tiny_f32.gguf";
  auto tok = moe::open_gguf_tokenizer(model);
  ASSERT_TRUE(tok.ok()) << tok.message();
  EXPECT_EQ(ids_of("-m " + model + " -p " + sh_quote("the patient")),
            (*tok)->encode("the patient", true, true));
}

TEST_F(CliTokenize, ClearErrors) {
  const Output missing = run_cli("tokenize -m " + (dir_ / "no_such.gguf").string() + " -p hi");
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.err.find("no_such.gguf"), std::string::npos) << missing.err;
  moe::GgufWriter w;
  w.set_string("general.name", "no tokenizer here");
  const std::string bare = (dir_ / "bare.gguf").string();
  ASSERT_TRUE(w.write(bare).ok());
  const Output none = run_cli("tokenize -m " + bare + " -p hi");
  EXPECT_EQ(none.rc, 1);
  EXPECT_NE(none.err.find("bare.gguf: no tokenizer"), std::string::npos) << none.err;
  const Output no_text = run_cli("tokenize -m " + vocab_);
  EXPECT_EQ(no_text.rc, 2);
  EXPECT_NE(no_text.err.find("exactly one of -p, -f or --stdin"), std::string::npos);
  const Output no_file = run_cli("tokenize -m " + vocab_ + " -f " + (dir_ / "none.txt").string());
  EXPECT_EQ(no_file.rc, 1);
  EXPECT_NE(no_file.err.find("none.txt: cannot open"), std::string::npos) << no_file.err;
}

}  // namespace
