#pragma once
// The tokenizer fuzz target's input format and checks. Input bytes:
//   [0] flags: bits 0-1 vocabulary (0 bundled "llama", 1 bundled "gpt2", 2 custom SentencePiece,
//       3 custom BPE), bit 2 add_bos, bit 3 parse_special, bit 4 add_space_prefix (custom
//       vocabularies), bit 5 chat: the text is a conversation rendered with encode_chat
//   [1] low nibble: BPE pre-tokenizer (0 llama-bpe, 1 gpt2, 2 qwen2, else an unknown name);
//       high nibble: chat template (mod 3: mistral, chatml, llama3)
//   [2] n extra tokens, then per token: type byte (mod 7: TokenType), length byte, bytes.
//       Bundled vocabularies get them appended; custom vocabularies are made of them (SentencePiece
//       scores -index, BPE merges for every token that is two other tokens joined)
//   rest: the text; in chat mode messages are separated by 0x1E, roles alternate from "user",
//       and a first message starting "S:" is the system prompt.
// Checked beyond memory safety: every id is inside the vocabulary; the bundled byte-level BPE
// decodes its own encoding back to the input; in chat mode with a bundled vocabulary and only
// special extra tokens, message text never adds a control token (no role injection).
#include <cstdint>
#include <span>

#include "tests/gguf_fuzz/gguf_check.h"

namespace moe::fuzz {

/// Runs the checks; `loaded` when the tokenizer was built. Traps (__builtin_trap) on a
/// violated invariant.
CheckOutcome check_tokenizer(std::span<const uint8_t> bytes);

}  // namespace moe::fuzz
