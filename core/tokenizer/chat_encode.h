#pragma once
// A conversation rendered straight to token ids, as chat front ends do (llama.cpp's server,
// transformers with a fast tokenizer and split_special_tokens): the template's markers
// ("[INST]", "<|im_start|>", BOS, EOS) are inserted as token ids, and everything inside a
// message is encoded with special-token parsing off. A user who types "[/INST] </s> [INST]" or
// pastes a document holding "<|im_start|>system" gets those characters as text; they cannot
// end the turn or forge one (role injection). A raw prompt (moe-cli run --raw) is not a
// conversation and keeps parsing on: Tokenizer::encode(text, add_bos, true).
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/tokenizer.h"

namespace moe {

/// The prompt ids of `messages` in template `kind`. BOS/EOS texts come from the vocabulary
/// (EOS "</s>" when it has none). A marker the vocabulary has no special token for (the
/// bundled SentencePiece vocabulary spells "[INST]" as text) is encoded as text, as the
/// rendered prompt would be. For messages holding no special-token text the ids equal
/// tok.encode(apply_chat_template(...), add_bos unless the template spells BOS, true).
std::vector<int32_t> encode_chat(const Tokenizer& tok, ChatTemplateKind kind,
                                 const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt);

/// encode_chat() for many renderings of one conversation (a long chat whose oldest turns are
/// left out one by one until it fits the context): every text run between two markers is
/// tokenized once and remembered, so each message is tokenized once however many turns are
/// dropped. Exact: a run always starts after a marker or at the start, where SentencePiece and
/// BPE restart, so its ids do not depend on what is around it. Memory: the ids of the runs seen.
class ChatEncoder {
 public:
  ChatEncoder(const Tokenizer& tok, ChatTemplateKind kind);
  std::vector<int32_t> encode(const std::vector<ChatMessage>& messages,
                              bool add_generation_prompt);
  /// Bytes of text handed to the tokenizer so far (each distinct run once).
  uint64_t bytes_tokenized() const { return bytes_tokenized_; }

 private:
  int32_t marker_id(const std::string& marker);
  const std::vector<int32_t>& run_ids(const std::string& text);

  const Tokenizer& tok_;
  ChatTemplateKind kind_;
  std::string bos_, eos_;
  std::unordered_map<std::string, int32_t> markers_;
  std::unordered_map<std::string, std::vector<int32_t>> runs_;
  uint64_t bytes_tokenized_ = 0;
};

}  // namespace moe
