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

// The id the rendered prompt's special-token pass would give `marker`: the whole text matched
// as one special token; -1 when the vocabulary has none (the marker is then plain text).
int32_t marker_id(const Tokenizer& tok, const std::string& marker) {
  const std::vector<int32_t> ids = tok.encode_pieces({{marker, -1}}, false, true);
  return ids.size() == 1 && is_special(tok, ids[0]) && token_text(tok, ids[0]) == marker ? ids[0]
                                                                                         : -1;
}

}  // namespace

std::vector<int32_t> encode_chat(const Tokenizer& tok, ChatTemplateKind kind,
                                 const std::vector<ChatMessage>& messages,
                                 bool add_generation_prompt) {
  const TokenizerData& td = tok.data();
  const std::string bos = token_text(tok, td.bos_id), eos = token_text(tok, td.eos_id);
  const std::vector<ChatSegment> segments = render_chat_segments(
      kind, messages, add_generation_prompt, bos, eos.empty() ? std::string("</s>") : eos);
  // Markers without a special token become text and join the text around them, so every text
  // run is split and encoded exactly as in the rendered prompt.
  std::vector<std::string> texts;
  std::vector<int32_t> ids;  // per run: the marker's id, or -1 for text
  for (const ChatSegment& s : segments) {
    const int32_t id = s.marker ? marker_id(tok, s.text) : -1;
    if (id < 0 && !ids.empty() && ids.back() < 0) {
      texts.back() += s.text;
      continue;
    }
    texts.push_back(s.text);
    ids.push_back(id);
  }
  std::vector<Tokenizer::Piece> pieces;
  pieces.reserve(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) pieces.push_back({texts[i], ids[i]});
  // Templates that spell BOS out already carry it; do not add a second one.
  const bool spelled =
      !bos.empty() && !segments.empty() && segments.front().marker && segments.front().text == bos;
  return tok.encode_pieces(pieces, td.add_bos && !spelled, /*parse_special=*/false);
}

}  // namespace moe
