// Byte-level BPE (GPT-2 family): the text is cut by the pre-tokenizer regex, each piece's bytes
// are mapped to GPT-2's printable code points, and merges are applied lowest rank first
// (ties: leftmost), as the `tokenizers` BPE model does.
#include <array>
#include <queue>

#include "core/tokenizer/tokenizer_impl.h"
#include "core/tokenizer/unicode.h"

namespace moe {
namespace {

// GPT-2 bytes_to_unicode(): printable bytes keep their code point, the other 68 are moved to
// 256, 257, ... in byte order so every byte has a visible, non-space character.
struct ByteMap {
  std::array<uint32_t, 256> to_cp{};
  ByteMap() {
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      to_cp[static_cast<size_t>(b)] = printable ? static_cast<uint32_t>(b) : next++;
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace

uint32_t gpt2_byte_to_codepoint(uint8_t b) {
  return byte_map().to_cp[b];
}

int gpt2_codepoint_to_byte(uint32_t cp) {
  if (cp < 256) {
    const bool printable = (cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174);
    return printable ? static_cast<int>(cp) : -1;
  }
  if (cp >= 256 + 68) return -1;
  for (int b = 0; b < 256; ++b)
    if (byte_map().to_cp[static_cast<size_t>(b)] == cp) return b;
  return -1;
}

Result<std::unique_ptr<Tokenizer>> BpeTokenizer::make(TokenizerData data) {
  std::unique_ptr<BpeTokenizer> t(new BpeTokenizer(std::move(data)));
  const TokenizerData& d = t->data_;
  if (d.pre == "gpt2") {
    t->pre_ = PreTokenizer::kGpt2;
  } else if (d.pre == "qwen2") {
    t->pre_ = PreTokenizer::kQwen2;
  } else if (d.pre.empty() || d.pre == "default" || d.pre == "llama-bpe" || d.pre == "llama3" ||
             d.pre == "smaug-bpe") {
    t->pre_ = PreTokenizer::kLlama3;  // "default" / absent: llama.cpp also uses this regex
  } else {
    return make_error("tokenizer: unsupported BPE pre-tokenizer '", d.pre,
                      "' (supported: gpt2, llama-bpe, qwen2)");
  }
  std::unordered_map<std::string_view, int32_t> ids;
  ids.reserve(d.tokens.size());
  for (size_t i = 0; i < d.tokens.size(); ++i) ids.emplace(d.tokens[i], static_cast<int32_t>(i));
  for (int b = 0; b < 256; ++b) {
    std::string s;
    unicode::append_utf8(s, gpt2_byte_to_codepoint(static_cast<uint8_t>(b)));
    auto it = ids.find(s);
    t->byte_ids_[b] = it != ids.end() ? it->second : d.unk_id;
  }
  t->merges_.reserve(d.merges.size());
  for (size_t r = 0; r < d.merges.size(); ++r) {
    const std::string& m = d.merges[r];
    const size_t sp = m.find(' ', 1);  // a merge is "left right"; neither half has a space
    if (sp == std::string::npos)
      return make_error("tokenizer: merge ", std::to_string(r), " ('", m,
                        "') is not two tokens separated by a space");
    const std::string_view left(m.data(), sp), right(m.data() + sp + 1, m.size() - sp - 1);
    auto l = ids.find(left), rr = ids.find(right);
    auto res = ids.find(std::string(left) + std::string(right));
    if (l == ids.end() || rr == ids.end() || res == ids.end()) continue;  // unusable merge
    // A merge never yields a control token: text cannot become "<|im_start|>" (role injection).
    if (static_cast<size_t>(res->second) < d.token_types.size() &&
        static_cast<TokenType>(d.token_types[static_cast<size_t>(res->second)]) ==
            TokenType::kControl)
      continue;
    t->merges_.emplace(pair_key(l->second, rr->second),
                       Merge{static_cast<int32_t>(r), res->second});  // first rank wins
  }
  t->specials_.build(d);
  return std::unique_ptr<Tokenizer>(std::move(t));
}

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<int32_t>& out) const {
  struct Sym {
    int32_t id;
    int prev, next;
  };
  struct Cand {
    int32_t rank;
    int left;
    int32_t left_id, right_id;
    bool operator<(const Cand& o) const {  // priority_queue: lowest rank, then leftmost
      return rank > o.rank || (rank == o.rank && left > o.left);
    }
  };
  std::vector<Sym> syms;
  syms.reserve(piece.size());
  for (char c : piece) {
    const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
    if (id < 0) continue;  // byte absent from a malformed vocabulary and no <unk>
    const int i = static_cast<int>(syms.size());
    syms.push_back({id, i - 1, i + 1});
  }
  if (syms.empty()) return;
  syms.back().next = -1;
  std::priority_queue<Cand> queue;
  auto try_add = [&](int left) {
    if (left < 0 || syms[left].next < 0) return;
    const Sym& a = syms[left];
    const Sym& b = syms[a.next];
    auto it = merges_.find(pair_key(a.id, b.id));
    if (it != merges_.end()) queue.push({it->second.rank, left, a.id, b.id});
  };
  for (int i = 0; i + 1 < static_cast<int>(syms.size()); ++i) try_add(i);
  while (!queue.empty()) {
    const Cand c = queue.top();
    queue.pop();
    Sym& a = syms[c.left];
    if (a.id != c.left_id || a.next < 0 || syms[a.next].id != c.right_id) continue;  // stale
    Sym& b = syms[a.next];
    a.id = merges_.at(pair_key(c.left_id, c.right_id)).result;
    b.id = -1;
    a.next = b.next;
    if (b.next >= 0) syms[b.next].prev = c.left;
    try_add(a.prev);
    try_add(c.left);
  }
  for (int i = 0; i != -1; i = syms[i].next) out.push_back(syms[i].id);
}

std::vector<int32_t> BpeTokenizer::encode_pieces(const std::vector<Piece>& pieces, bool add_bos,
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
  std::vector<std::string_view> words;
  for (const auto& f : frags) {
    if (f.id >= 0) {
      out.push_back(f.id);
      continue;
    }
    words.clear();
    pre_tokenize(pre_, f.text, words);
    for (std::string_view w : words) encode_piece(w, out);
  }
  if (add_bos && data_.add_eos && data_.eos_id >= 0) out.push_back(data_.eos_id);
  return out;
}

std::string BpeTokenizer::token_bytes(int32_t id) const {
  if (id < 0 || id >= n_vocab()) return {};
  const std::string& t = data_.tokens[static_cast<size_t>(id)];
  if (!data_.token_types.empty()) {
    const auto type = static_cast<TokenType>(data_.token_types[static_cast<size_t>(id)]);
    if (type == TokenType::kControl || type == TokenType::kUserDefined) return t;
  }
  std::string out;
  for (size_t pos = 0; pos < t.size();) {
    size_t len = 1;
    const uint32_t cp = unicode::decode_utf8(t, pos, &len);
    const int b = gpt2_codepoint_to_byte(cp);
    if (b >= 0) {
      out += static_cast<char>(b);
    } else {
      out.append(t, pos, len);  // not a mapped byte: keep the text as it is
    }
    pos += len;
  }
  return out;
}

}  // namespace moe
