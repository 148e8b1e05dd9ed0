#pragma once
// Pre-tokenizer regexes of byte-level BPE models, written out by hand (std::regex has no \p{L}).
// Each splitter reproduces the leftmost-first alternation of the regex exactly, given the
// Unicode classes in unicode.h:
//   gpt2:      's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama-bpe: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//              ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
//   qwen2:     as llama-bpe with \p{N} (one digit) instead of \p{N}{1,3}
#include <string_view>
#include <vector>

namespace moe {

enum class PreTokenizer { kGpt2, kLlama3, kQwen2 };

/// Splits `text` into consecutive pieces covering it exactly (appended to `out`).
void pre_tokenize(PreTokenizer kind, std::string_view text, std::vector<std::string_view>& out);

}  // namespace moe
