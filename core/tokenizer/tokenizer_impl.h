#pragma once
// The two tokenizer implementations behind Tokenizer::create (internal header).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/pre_tokenize.h"
#include "core/tokenizer/special_tokens.h"
#include "core/tokenizer/tokenizer.h"

namespace moe {

/// SentencePiece-style (llama.cpp llm_tokenizer_spm): "▁" for spaces, bigram merging by the
/// score of the merged piece, byte fallback <0xNN>, unknown token otherwise.
class SpmTokenizer final : public Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> make(TokenizerData data);
  std::vector<int32_t> encode_pieces(const std::vector<Piece>& pieces, bool add_bos,
                                     bool parse_special) const override;
  std::string token_bytes(int32_t id) const override;

 private:
  explicit SpmTokenizer(TokenizerData data) : Tokenizer(std::move(data)) {}
  void encode_text(std::string_view text, std::vector<int32_t>& out) const;
  int32_t byte_token(uint8_t b) const;

  struct Hash {  // lets find() take a string_view: no copy per lookup
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> piece_to_id_;
  int32_t byte_ids_[256];
  SpecialTokenMatcher specials_;
};

/// Byte-level BPE (GPT-2): bytes mapped to printable code points, merges applied by rank
/// inside each pre-tokenizer piece.
class BpeTokenizer final : public Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> make(TokenizerData data);
  std::vector<int32_t> encode_pieces(const std::vector<Piece>& pieces, bool add_bos,
                                     bool parse_special) const override;
  std::string token_bytes(int32_t id) const override;

 private:
  explicit BpeTokenizer(TokenizerData data) : Tokenizer(std::move(data)) {}
  void encode_piece(std::string_view piece, std::vector<int32_t>& out) const;

  struct Merge {
    int32_t rank;
    int32_t result;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  std::unordered_map<uint64_t, Merge> merges_;
  int32_t byte_ids_[256];  // token of each single byte (its GPT-2 code point), -1 if absent
  PreTokenizer pre_ = PreTokenizer::kLlama3;
  SpecialTokenMatcher specials_;
};

/// GPT-2's reversible byte <-> code point map (printable bytes map to themselves).
uint32_t gpt2_byte_to_codepoint(uint8_t b);
/// Inverse; -1 for code points outside the map.
int gpt2_codepoint_to_byte(uint32_t cp);

}  // namespace moe
