// Shared Tokenizer parts: validation and dispatch, decoding (special tokens: special_tokens.cpp).
#include "core/tokenizer/tokenizer.h"

#include <algorithm>
#include <array>
#include <iterator>

#include "core/tokenizer/tokenizer_impl.h"
#include "core/tokenizer/unicode.h"

namespace moe {
namespace {

Status validate(const TokenizerData& d) {
  const auto n = static_cast<int64_t>(d.tokens.size());
  if (n == 0) return make_error("tokenizer: the vocabulary is empty (tokenizer.ggml.tokens)");
  if (!d.scores.empty() && static_cast<int64_t>(d.scores.size()) != n)
    return make_error("tokenizer: ", std::to_string(d.scores.size()), " scores for ",
                      std::to_string(n), " tokens");
  if (!d.token_types.empty() && static_cast<int64_t>(d.token_types.size()) != n)
    return make_error("tokenizer: ", std::to_string(d.token_types.size()), " token types for ",
                      std::to_string(n), " tokens");
  const std::array<std::pair<const char*, int32_t>, 5> ids = {{{"bos", d.bos_id},
                                                               {"eos", d.eos_id},
                                                               {"unknown", d.unk_id},
                                                               {"padding", d.pad_id},
                                                               {"eot", d.eot_id}}};
  for (const auto& [name, id] : ids) {
    if (id < -1 || id >= n)
      return make_error("tokenizer: ", name, " token id ", std::to_string(id),
                        " is outside the vocabulary of ", std::to_string(n), " tokens");
  }
  return {};
}

TokenType type_of(const TokenizerData& d, int32_t id) {
  if (d.token_types.empty()) return TokenType::kNormal;
  return static_cast<TokenType>(d.token_types[static_cast<size_t>(id)]);
}

}  // namespace

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(TokenizerData data) {
  MOE_TRY(validate(data));
  if (data.model == "llama") return SpmTokenizer::make(std::move(data));
  if (data.model == "gpt2") return BpeTokenizer::make(std::move(data));
  return make_error("tokenizer: unsupported tokenizer model '", data.model,
                    "' (supported: \"llama\" SentencePiece, \"gpt2\" byte-level BPE)");
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, bool add_bos,
                                       bool parse_special) const {
  return encode_pieces({Piece{text, -1}}, add_bos, parse_special);
}

bool Tokenizer::is_control(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return false;
  return type_of(data_, id) == TokenType::kControl;
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return false;
  if (id == data_.eos_id || id == data_.eot_id) return true;
  if (!is_control(id)) return false;
  static constexpr std::array<std::string_view, 6> kEnd = {
      "</s>", "<|im_end|>", "<|eot_id|>", "<|endoftext|>", "<|end|>", "<end_of_turn>"};
  const std::string& t = data_.tokens[static_cast<size_t>(id)];
  return std::find(kEnd.begin(), kEnd.end(), t) != kEnd.end();
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    if (id < 0 || id >= n_vocab() || is_control(id)) continue;
    std::string piece = token_bytes(id);
    // SentencePiece adds "▁" in front of the text; the first piece gives it back.
    if (first && data_.model == "llama" && data_.add_space_prefix && !piece.empty() &&
        piece[0] == ' ')
      piece.erase(0, 1);
    first = false;
    out += piece;
  }
  return out;
}

std::string StreamDecoder::push(int32_t id) {
  if (id < 0 || id >= tok_.n_vocab() || tok_.is_control(id)) return {};
  std::string piece = tok_.token_bytes(id);
  const TokenizerData& d = tok_.data();
  if (first_ && starts_text_ && d.model == "llama" && d.add_space_prefix && !piece.empty() && piece[0] == ' ')
    piece.erase(0, 1);
  first_ = false;
  pending_ += piece;
  const size_t n = unicode::complete_utf8_prefix(pending_);
  std::string out = pending_.substr(0, n);
  pending_.erase(0, n);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  // Whatever is left is an incomplete UTF-8 sequence: one U+FFFD for it.
  if (!pending_.empty()) out = "\xEF\xBF\xBD";
  pending_.clear();
  return out;
}

void StreamDecoder::reset() {
  pending_.clear();
  first_ = true;
}

}  // namespace moe
