// SentencePiece-style tokenizer, following llama.cpp's llm_tokenizer_spm: the text (spaces as
// "▁", "▁" prepended) is split into UTF-8 characters; repeatedly the adjacent pair whose
// concatenation is the highest-scoring piece is merged (ties: leftmost); characters that are
// not pieces become their bytes (<0xNN>), or <unk> when the vocabulary has no byte tokens.
#include <cstdio>
#include <queue>

#include "core/tokenizer/tokenizer_impl.h"
#include "core/tokenizer/unicode.h"

namespace moe {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581 "▁"

struct Symbol {
  int prev, next;
  size_t offset, n;  // bytes of the text
};

struct Bigram {
  int left, right;
  float score;
  size_t size;
  bool operator<(const Bigram& o) const {  // priority_queue: highest score, then leftmost
    return score < o.score || (score == o.score && left > o.left);
  }
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> SpmTokenizer::make(TokenizerData data) {
  if (data.scores.empty()) data.scores.assign(data.tokens.size(), 0.0f);
  std::unique_ptr<SpmTokenizer> t(new SpmTokenizer(std::move(data)));
  const auto& tokens = t->data_.tokens;
  const auto& types = t->data_.token_types;
  t->piece_to_id_.reserve(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    // Control tokens are never pieces of text (as in SentencePiece): merging "[/" + "INST]" in
    // a message must not produce the control token [/INST] (role injection). They are
    // inserted by id or found by the special-token pass only.
    if (i < types.size() && static_cast<TokenType>(types[i]) == TokenType::kControl) continue;
    t->piece_to_id_.emplace(tokens[i], static_cast<int32_t>(i));  // first id wins on duplicates
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto it = t->piece_to_id_.find(name);
    if (it == t->piece_to_id_.end())
      it = t->piece_to_id_.find(std::string(1, static_cast<char>(b)));
    t->byte_ids_[b] = it != t->piece_to_id_.end() ? it->second : t->data_.unk_id;
  }
  t->specials_.build(t->data_);
  return std::unique_ptr<Tokenizer>(std::move(t));
}

int32_t SpmTokenizer::byte_token(uint8_t b) const {
  return byte_ids_[b];
}

void SpmTokenizer::encode_text(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<Symbol> symbols;
  for (size_t off = 0; off < text.size();) {
    const size_t n =
        std::min(unicode::utf8_len(static_cast<uint8_t>(text[off])), text.size() - off);
    const int idx = static_cast<int>(symbols.size());
    symbols.push_back({idx - 1, off + n == text.size() ? -1 : idx + 1, off, n});
    off += n;
  }
  std::priority_queue<Bigram> queue;
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string_view piece =
        text.substr(symbols[left].offset, symbols[left].n + symbols[right].n);
    auto it = piece_to_id_.find(piece);
    if (it == piece_to_id_.end()) return;
    queue.push({left, right, data_.scores[static_cast<size_t>(it->second)], piece.size()});
  };
  for (int i = 1; i < static_cast<int>(symbols.size()); ++i) try_add(i - 1, i);
  while (!queue.empty()) {
    const Bigram b = queue.top();
    queue.pop();
    Symbol& l = symbols[b.left];
    Symbol& r = symbols[b.right];
    if (l.n == 0 || r.n == 0 || l.n + r.n != b.size) continue;  // stale: already merged
    l.n += r.n;
    r.n = 0;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = b.left;
    try_add(l.prev, b.left);
    try_add(b.left, l.next);
  }
  // Emit pieces; a symbol that is not a piece is a single character missing from the vocabulary
  // (every merge result is a piece), so llama.cpp's rev_merge re-split never applies: bytes.
  auto emit = [&](const Symbol& s) {
    const std::string_view piece = text.substr(s.offset, s.n);
    if (auto it = piece_to_id_.find(piece); it != piece_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
    for (size_t j = 0; j < s.n; ++j) {
      const int32_t id = byte_token(static_cast<uint8_t>(text[s.offset + j]));
      if (id >= 0) out.push_back(id);
    }
  };
  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) emit(symbols[i]);
}

std::vector<int32_t> SpmTokenizer::encode_pieces(const std::vector<Piece>& pieces, bool add_bos,
                                                 bool parse_special) const {
  std::vector<int32_t> out;
  if (add_bos && data_.add_bos && data_.bos_id >= 0) out.push_back(data_.bos_id);
  std::vector<SpecialTokenMatcher::Fragment> frags;
  for (const Piece& p : pieces) {
    if (p.id >= 0) {
      frags.push_back({p.text, p.id});
    } else {
      specials_.split(p.text, parse_special, frags);
    }
  }
  bool prev_special = true;  // the text start counts: "▁" goes in front
  std::string escaped;
  for (const auto& f : frags) {
    if (f.id >= 0) {
      out.push_back(f.id);
      prev_special = true;
      continue;
    }
    escaped.clear();
    if (data_.add_space_prefix && prev_special) escaped += kSpace;
    for (char c : f.text) {
      if (c == ' ')
        escaped += kSpace;
      else
        escaped += c;
    }
    encode_text(escaped, out);
    prev_special = false;
  }
  if (add_bos && data_.add_eos && data_.eos_id >= 0) out.push_back(data_.eos_id);
  return out;
}

std::string SpmTokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return {};
  const std::string& t = data_.tokens[static_cast<size_t>(id)];
  const auto type = data_.token_types.empty()
                        ? TokenType::kNormal
                        : static_cast<TokenType>(data_.token_types[static_cast<size_t>(id)]);
  if (type == TokenType::kByte && t.size() == 6 && t.compare(0, 3, "<0x") == 0) {
    auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                    : -1;
    };
    const int hi = hex(t[3]), lo = hex(t[4]);
    if (hi >= 0 && lo >= 0) return std::string(1, static_cast<char>(hi * 16 + lo));
  }
  if (type == TokenType::kControl) return t;
  if (type == TokenType::kUnknown) return "\xE2\x96\x85";  // "▅", as llama.cpp prints <unk>
  std::string out;
  for (size_t i = 0; i < t.size();) {
    if (t.compare(i, kSpace.size(), kSpace) == 0) {
      out += ' ';
      i += kSpace.size();
    } else {
      out += t[i++];
    }
  }
  return out;
}

}  // namespace moe
