#pragma once
// Two small real vocabularies compiled into the binary, so tests, the synthetic model generator
// and demos need no downloaded tokenizer. Trained by tools/make_vocab.py (corpus and layout in
// docs/engine.md); the data lives in bundled_vocab_data.inc (generated, committed).
#include <string_view>

#include "core/tokenizer/tokenizer.h"
#include "core/util/status.h"

namespace moe {

/// "llama": SentencePiece-style, 8000 tokens (<unk>=0, <s>=1, </s>=2, <0x00>..<0xFF>=3..258),
///          chat template = Mixtral-8x7B-Instruct's Jinja ([INST] spelled as text).
/// "gpt2":  byte-level BPE, 8000 tokens, pre = "llama-bpe", ChatML specials
///          <|endoftext|>=0, <|im_start|>=1, <|im_end|>=2, chat template = ChatML Jinja.
/// Anything else is an Error listing the names.
Result<TokenizerData> bundled_vocab(std::string_view which);

/// The real Jinja sources the bundled vocabularies carry (also used by the template tests).
extern const std::string_view kMixtralChatTemplate;
extern const std::string_view kChatMLChatTemplate;
extern const std::string_view kLlama3ChatTemplate;

}  // namespace moe
