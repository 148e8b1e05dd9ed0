// Behaviour that the golden ids do not cover: streaming decode, special tokens, errors, the
// pre-tokenizer splits.
#include <gtest/gtest.h>

#include <iterator>
#include <random>

#include "core/tokenizer/bundled_vocab.h"
#include "core/tokenizer/pre_tokenize.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/unicode.h"

namespace moe {
namespace {

std::unique_ptr<Tokenizer> make(std::string_view which) {
  auto tok = Tokenizer::create(*bundled_vocab(which));
  EXPECT_TRUE(tok.ok()) << tok.message();
  return std::move(*tok);
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    if (unicode::decode_utf8(s, i, &len) == 0xFFFD) return false;
    i += len;
  }
  return true;
}

TEST(Tokenizer, StreamDecoderNeverSplitsCharacters) {
  const auto tok = make("llama");
  // A stethoscope emoji (4 bytes) and CJK characters absent from the vocabulary: byte fallback.
  const std::string text = "Check \xF0\x9F\xA9\xBA and \xE4\xBD\xA0\xE5\xA5\xBD ok";
  const auto ids = tok->encode(text, false, false);
  int byte_tokens = 0;
  for (int32_t id : ids) byte_tokens += tok->data().token_types[id] == int(TokenType::kByte);
  ASSERT_GE(byte_tokens, 4) << "the test needs a character split over byte tokens";
  StreamDecoder dec(*tok);
  std::string all;
  int held_back = 0;
  for (int32_t id : ids) {
    const std::string piece = dec.push(id);
    EXPECT_TRUE(valid_utf8(piece)) << "split character emitted";
    held_back += piece.empty();
    all += piece;
  }
  all += dec.flush();
  EXPECT_EQ(all, text);
  EXPECT_GE(held_back, 3);  // the first bytes of the emoji were held back
}

TEST(Tokenizer, StreamDecoderFlushesIncompleteTailAsReplacement) {
  const auto tok = make("llama");
  StreamDecoder dec(*tok);
  EXPECT_EQ(dec.push(3 + 0xF0), "");  // lead byte of a 4-byte sequence: held back
  EXPECT_EQ(dec.push(3 + 0x9F), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");
  dec.reset();
  EXPECT_EQ(dec.push(3 + 'A'), "A");
}

// Completion text (moe-cli run --raw): the continuation of a prompt keeps the space before its
// first word, so prompt + answer reads as one text; a chat answer starts without it.
TEST(Tokenizer, StreamDecoderKeepsTheSpaceOfAContinuation) {
  const auto tok = make("llama");
  const auto prompt = tok->encode("The patient", false, false);
  const auto all = tok->encode("The patient has a fever", false, false);
  ASSERT_GT(all.size(), prompt.size());
  ASSERT_TRUE(std::equal(prompt.begin(), prompt.end(), all.begin()));
  const auto stream = [&](bool starts_text) {
    StreamDecoder dec(*tok, starts_text);
    std::string out;
    for (size_t i = prompt.size(); i < all.size(); ++i) out += dec.push(all[i]);
    return out + dec.flush();
  };
  EXPECT_EQ(stream(/*starts_text=*/false), " has a fever");
  EXPECT_EQ("The patient" + stream(false), "The patient has a fever");
  EXPECT_EQ(stream(/*starts_text=*/true), "has a fever");  // a chat answer's first word
}

TEST(Tokenizer, SpecialTokensOnlyWhenAsked) {
  const auto tok = make("gpt2");
  const std::string text = "<|im_start|>user\nHi<|im_end|>";
  const auto with = tok->encode(text, false, true);
  ASSERT_FALSE(with.empty());
  EXPECT_EQ(with.front(), 1);
  EXPECT_EQ(with.back(), 2);
  const auto without = tok->encode(text, false, false);
  for (int32_t id : without) EXPECT_FALSE(tok->is_control(id)) << id;
  EXPECT_EQ(tok->decode(without), text);
  EXPECT_TRUE(tok->is_end_of_generation(2));
  EXPECT_FALSE(tok->is_end_of_generation(1));
  EXPECT_EQ(tok->decode(with), "user\nHi");  // control tokens are skipped
}

TEST(Tokenizer, BosFollowsVocabulary) {
  const auto llama = make("llama");
  const auto ids = llama->encode("Hello", true, false);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids[0], 1);
  EXPECT_EQ(llama->decode(ids), "Hello");
  const auto gpt2 = make("gpt2");  // add_bos = false for the ChatML vocabulary
  EXPECT_EQ(gpt2->encode("Hello", true, false), gpt2->encode("Hello", false, false));
}

TEST(Tokenizer, SpmTokenBytes) {
  const auto tok = make("llama");
  EXPECT_EQ(tok->token_bytes(3 + 0x0A), "\n");
  EXPECT_EQ(tok->token_bytes(1), "<s>");
  const auto ids = tok->encode("hello", false, false);
  std::string s;
  for (int32_t id : ids) s += tok->token_bytes(id);
  EXPECT_EQ(s, " hello");  // "▁" shown as the space it stands for
  EXPECT_EQ(tok->token_bytes(-1), "");
  EXPECT_EQ(tok->token_bytes(8000), "");
}

TEST(Tokenizer, RejectsBadData) {
  TokenizerData d = *bundled_vocab("llama");
  d.model = "wordpiece";
  auto r = Tokenizer::create(d);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("wordpiece"), std::string::npos);
  d.model = "llama";
  d.eos_id = 9000;
  EXPECT_FALSE(Tokenizer::create(d).ok());
  d.eos_id = 2;
  d.scores.pop_back();
  EXPECT_FALSE(Tokenizer::create(d).ok());
  TokenizerData e;
  e.model = "gpt2";
  EXPECT_FALSE(Tokenizer::create(e).ok());  // empty vocabulary
  TokenizerData g = *bundled_vocab("gpt2");
  g.merges.push_back("nospace");
  EXPECT_FALSE(Tokenizer::create(g).ok());
  g = *bundled_vocab("gpt2");
  g.pre = "made-up";
  EXPECT_FALSE(Tokenizer::create(g).ok());
}

// Random mixtures of ASCII, whitespace runs, multi-byte characters and invalid bytes: encoding
// never fails and decoding gives the exact bytes back (llama: except the "▁" character itself,
// and a truncated UTF-8 lead byte before a space, which swallows part of the "▁" the space
// becomes -- as in llama.cpp; so only single invalid bytes are used here).
TEST(Tokenizer, RandomInputRoundTrips) {
  const auto llama = make("llama");
  const auto gpt2 = make("gpt2");
  const char* const atoms[] = {"a",
                               "Z",
                               "7",
                               " ",
                               "  ",
                               "\n",
                               "\t",
                               "'s",
                               "!",
                               "\xC3\xA9",
                               "\xE6\x82\xA3",
                               "\xF0\x9F\x99\x82",
                               "\xFF",
                               "\x80",
                               "\xE2\x82\xAC",
                               "<s>",
                               "<|im_end|>",
                               "\r\n",
                               "\xC2\xA0"};
  std::mt19937 rng(1234);
  for (int iter = 0; iter < 300; ++iter) {
    std::string text;
    const int n = static_cast<int>(rng() % 40);
    for (int i = 0; i < n; ++i) text += atoms[rng() % std::size(atoms)];
    const auto g = gpt2->encode(text, false, false);
    for (int32_t id : g) ASSERT_TRUE(id >= 0 && id < gpt2->n_vocab());
    EXPECT_EQ(gpt2->decode(g), text);
    const auto l = llama->encode(text, false, false);
    for (int32_t id : l) ASSERT_TRUE(id >= 0 && id < llama->n_vocab());
    if (text.find("\xE2\x96\x81") == std::string::npos) {
      EXPECT_EQ(llama->decode(l), text);
    }
  }
}

// A hand-made SentencePiece vocabulary without byte tokens: merges follow piece scores (not a
// merge list), and a character outside the vocabulary becomes <unk>.
TEST(Tokenizer, SpmScoreOrderAndUnknown) {
  TokenizerData d;
  d.model = "llama";
  d.tokens = {"<unk>", "<s>", "</s>", "\xE2\x96\x81", "a", "b", "c", "ab", "bc", "abc"};
  d.scores = {0, 0, 0, -10, -10, -10, -10, -5, -1, -2};
  d.token_types = {2, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  d.unk_id = 0;
  d.bos_id = 1;
  d.eos_id = 2;
  auto tok = Tokenizer::create(d);
  ASSERT_TRUE(tok.ok()) << tok.message();
  // "bc" (-1) beats "ab" (-5); then "a"+"bc" = "abc" is a piece.
  EXPECT_EQ((*tok)->encode("abc", false, false), (std::vector<int32_t>{3, 9}));
  // "abab": "ab" twice (no "ba", no "abab").
  EXPECT_EQ((*tok)->encode("abab", false, false), (std::vector<int32_t>{3, 7, 7}));
  // 'x' is not in the vocabulary and there are no byte tokens: <unk>.
  EXPECT_EQ((*tok)->encode("axc", true, false), (std::vector<int32_t>{1, 3, 4, 0, 6}));
  d.add_space_prefix = false;
  auto tok2 = Tokenizer::create(d);
  ASSERT_TRUE(tok2.ok());
  EXPECT_EQ((*tok2)->encode("ab c", false, false), (std::vector<int32_t>{7, 3, 6}));
}

std::vector<std::string> split(PreTokenizer kind, std::string_view text) {
  std::vector<std::string_view> v;
  pre_tokenize(kind, text, v);
  return {v.begin(), v.end()};
}

TEST(PreTokenize, Llama3Pattern) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split(PreTokenizer::kLlama3, "Hello world's 12345 !!\n\n  x"),
            (V{"Hello", " world", "'s", " ", "123", "45", " !!\n\n", " ", " x"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "I'M ok"), (V{"I", "'M", " ok"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "a \n b"), (V{"a", " \n", " b"}));
  EXPECT_EQ(split(PreTokenizer::kLlama3, "caf\xC3\xA9 \xF0\x9F\x99\x82x"),
            (V{"caf\xC3\xA9", " \xF0\x9F\x99\x82", "x"}));
}

TEST(PreTokenize, Gpt2Pattern) {
  using V = std::vector<std::string>;
  EXPECT_EQ(split(PreTokenizer::kGpt2, "Hello world's 12345 !!\n\n  x"),
            (V{"Hello", " world", "'s", " 12345", " !!", "\n\n ", " x"}));
  EXPECT_EQ(split(PreTokenizer::kGpt2, "I'M"), (V{"I", "'", "M"}));
  EXPECT_EQ(split(PreTokenizer::kGpt2, "end   "), (V{"end", "   "}));
}

TEST(Unicode, Classes) {
  EXPECT_TRUE(unicode::is_letter(0x00E9));    // é
  EXPECT_TRUE(unicode::is_letter(0x60A3));    // 患
  EXPECT_FALSE(unicode::is_letter(0x1F642));  // 🙂
  EXPECT_TRUE(unicode::is_number(0x00B2));    // ²
  EXPECT_FALSE(unicode::is_number(0x00B0));   // °
  EXPECT_TRUE(unicode::is_whitespace(0x3000));
  EXPECT_FALSE(unicode::is_whitespace(0x200B));  // zero-width space is not White_Space
  EXPECT_EQ(unicode::complete_utf8_prefix("ab\xE2\x96"), 2u);
  EXPECT_EQ(unicode::complete_utf8_prefix("ab\xE2\x96\x81"), 5u);
}

}  // namespace
}  // namespace moe
