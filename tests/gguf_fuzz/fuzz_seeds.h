#pragma once
// Seed inputs of the loader and tokenizer fuzz targets (the parser's are in gguf_corpus.h).
// Loader seeds are tiny complete models (a few KB, so mutations reach every check); tokenizer
// seeds use the input format of tokenizer_check.h.
#include <cstdint>
#include <vector>

namespace moe::fuzz {

/// Three small valid models: MoE with merged Q8_0 experts and a SentencePiece vocabulary;
/// dense F16 with tied embeddings and a BPE vocabulary; MoE with per-expert tensor names and
/// linear RoPE scaling.
std::vector<std::vector<uint8_t>> make_model_seeds();

/// Inputs for check_tokenizer: each vocabulary kind, special tokens, chat mode, odd UTF-8.
std::vector<std::vector<uint8_t>> make_tokenizer_seeds();

}  // namespace moe::fuzz
