#pragma once
// Test helper: delegates to a real tokenizer and counts the text bytes it was asked to encode,
// so tests can show that a caller tokenizes a prefix, or each message, once.
#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace moe {

class CountingTokenizer : public Tokenizer {
 public:
  explicit CountingTokenizer(std::unique_ptr<Tokenizer> inner)
      : Tokenizer(inner->data()), inner_(std::move(inner)) {}
  std::vector<int32_t> encode_pieces(const std::vector<Piece>& pieces, bool add_bos,
                                     bool parse_special) const override {
    for (const Piece& p : pieces) bytes_ += p.text.size();
    return inner_->encode_pieces(pieces, add_bos, parse_special);
  }
  std::string token_bytes(int32_t id) const override { return inner_->token_bytes(id); }
  mutable uint64_t bytes_ = 0;

 private:
  std::unique_ptr<Tokenizer> inner_;
};

}  // namespace moe
