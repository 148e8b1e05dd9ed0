#include "core/tokenizer/chat_encode.h"

#include <string>

namespace moe {
namespace {

std::string token_text(const Tokenizer& tok, int32_t id) {
  return id >= 0 && id < tok.n_vocab() ? tok.data().tokens[static_cast<size_t>(id)] : std::string();
}

bool is_special(const Tokenizer& tok, int32_t id) {
  const auto& types = tok.data().token_types;
  if (id < 0 || static_cast<size_t>(id) >= types.size()) return false;
  const auto t = static_cast<TokenType>(types[static_cast<size_t>(id)]);
  return t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown;
}

}  // namespace

ChatEncoder::ChatEncoder(const Tokenizer& tok, ChatTemplateKind kind)
    : tok_(tok),
      kind_(kind),
      bos_(token_text(tok, tok.data().bos_id)),
      eos_(token_text(tok, tok.data().eos_id)) {
  if (eos_.empty()) eos_ = "</s>";
}

// The id the rendered prompt's special-token pass would give `marker`: the whole text matched
// as one special token; -1 when the vocabulary has none (the marker is then plain text).
int32_t ChatEncoder::marker_id(const std::string& marker) {
  auto it = markers_.find(marker);
  if (it != markers_.end()) return it->second;
  const std::vector<int32_t> ids = tok_.encode_pieces({{marker, -1}}, false, true);
  const int32_t id =
      ids.size() == 1 && is_special(tok_, ids[0]) && token_text(tok_, ids[0]) == marker ? ids[0]
                                                                                         : -1;
  markers_.emplace(marker, id);
  return id;
}

// A run is encoded on its own: encode_pieces restarts at every id piece (SentencePiece's space
// prefix after a special token; BPE's pre-tokenizer), and every run follows one or the start.
const std::vector<int32_t>& ChatEncoder::run_ids(const std::string& text) {
  auto it = runs_.find(text);
  if (it != runs_.end()) return it->second;
  bytes_tokenized_ += text.size();
  return runs_.emplace(text, tok_.encode_pieces({{text, -1}}, false, /*parse_special=*/false))
      .first->second;
}

std::vector<int32_t> ChatEncoder::encode(const std::vector<ChatMessage>& messages,
                                         bool add_generation_prompt) {
  const TokenizerData& td = tok_.data();
  const std::vector<ChatSegment> segments =
      render_chat_segments(kind_, messages, add_generation_prompt, bos_, eos_);
  // Templates that spell BOS out already carry it; do not add a second one.
  const bool spelled = !bos_.empty() && !segments.empty() && segments.front().marker &&
                       segments.front().text == bos_;
  const bool add_specials = td.add_bos && !spelled;  // encode_pieces' add_bos argument
  std::vector<int32_t> out;
  if (add_specials && td.add_bos && td.bos_id >= 0) out.push_back(td.bos_id);
  // Markers without a special token become text and join the text around them, so every text
  // run is split and encoded exactly as in the rendered prompt.
  std::string run;
  bool in_run = false;
  auto flush = [&] {
    if (!in_run) return;
    const std::vector<int32_t>& ids = run_ids(run);
    out.insert(out.end(), ids.begin(), ids.end());
    run.clear();
    in_run = false;
  };
  for (const ChatSegment& s : segments) {
    const int32_t id = s.marker ? marker_id(s.text) : -1;
    if (id >= 0) {
      flush();
      out.push_back(id);
    } else {
      run += s.text;
      in_run = true;
    }
  }
  flush();
  if (add_specials && td.add_eos && td.eos_id >= 0) out.push_back(td.eos_id);
  return out;
}

std::vector<int32_t> encode_chat(const Tokenizer& tok, ChatTemplateKind kind,
                                 const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) {
  return ChatEncoder(tok, kind).encode(messages, add_generation_prompt);
}

}  // namespace moe
