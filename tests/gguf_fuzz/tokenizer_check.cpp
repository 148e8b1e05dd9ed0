#include "tests/gguf_fuzz/tokenizer_check.h"

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/tokenizer/bundled_vocab.h"
#include "core/tokenizer/chat_encode.h"
#include "core/tokenizer/tokenizer.h"

namespace moe::fuzz {
namespace {

struct Input {
  uint8_t flags = 0, pre = 0;
  std::vector<std::pair<TokenType, std::string>> extra;
  std::string_view text;
};

bool parse_input(std::span<const uint8_t> b, Input& in) {
  if (b.size() < 3) return false;
  in.flags = b[0];
  in.pre = b[1];
  size_t pos = 3;
  for (int i = 0; i < b[2]; ++i) {
    if (pos + 2 > b.size()) return false;
    const auto type = static_cast<TokenType>(b[pos] % 7);
    const size_t len = b[pos + 1];
    pos += 2;
    if (pos + len > b.size()) return false;
    in.extra.emplace_back(type, std::string(reinterpret_cast<const char*>(&b[pos]), len));
    pos += len;
  }
  in.text = {reinterpret_cast<const char*>(b.data() + pos), b.size() - pos};
  return true;
}

TokenizerData make_data(const Input& in) {
  const int kind = in.flags & 3;
  TokenizerData d;
  if (kind < 2) {
    d = *bundled_vocab(kind == 0 ? "llama" : "gpt2");
  } else {
    d.model = kind == 2 ? "llama" : "gpt2";
    d.add_bos = (in.flags & 4) != 0;
    d.add_space_prefix = (in.flags & 16) != 0;
  }
  if (d.model == "gpt2") {
    static constexpr const char* kPre[] = {"llama-bpe", "gpt2", "qwen2"};
    const int p = in.pre & 15;
    d.pre = p < 3 ? kPre[p] : "fuzz-unknown";
  }
  for (const auto& [type, text] : in.extra) {
    d.tokens.push_back(text);
    d.token_types.push_back(static_cast<int32_t>(type));
    if (d.model == "llama") d.scores.push_back(-static_cast<float>(d.tokens.size()));
  }
  if (kind >= 2) {
    if (d.tokens.size() >= 3) {
      d.bos_id = 1;
      d.eos_id = 2;
    }
    if (d.model == "gpt2") {  // merges: every token that is two other tokens joined
      std::unordered_set<std::string_view> have(d.tokens.begin(), d.tokens.end());
      for (const std::string& t : d.tokens) {
        for (size_t cut = 1; cut < t.size(); ++cut) {
          const std::string_view l(t.data(), cut), r(t.data() + cut, t.size() - cut);
          if (have.count(l) && have.count(r) && l.find(' ') == l.npos && r.find(' ') == r.npos) {
            d.merges.push_back(std::string(l) + " " + std::string(r));
            break;
          }
        }
      }
    }
  }
  return d;
}

std::vector<ChatMessage> messages_of(std::string_view text) {
  std::vector<ChatMessage> msgs;
  size_t start = 0;
  for (;;) {
    const size_t end = text.find('\x1e', start);
    std::string part(text.substr(start, end == text.npos ? text.npos : end - start));
    if (msgs.empty() && part.rfind("S:", 0) == 0) {
      msgs.push_back({"system", part.substr(2)});
    } else {
      const size_t turn = msgs.size() - (!msgs.empty() && msgs[0].role == "system");
      msgs.push_back({turn % 2 == 0 ? "user" : "assistant", std::move(part)});
    }
    if (end == text.npos) break;
    start = end + 1;
  }
  return msgs;
}

// Says which invariant broke and on what (for triage), then traps like a sanitizer report.
[[noreturn]] void violated(const char* what, const Input& in, const std::vector<int32_t>& ids) {
  std::fprintf(stderr,
               "tokenizer check failed: %s\nflags 0x%02x pre 0x%02x, %zu extra tokens:", what,
               in.flags, in.pre, in.extra.size());
  for (const auto& [type, text] : in.extra) {
    std::fprintf(stderr, " [%d '%s']", static_cast<int>(type), text.c_str());
  }
  std::string shown(in.text);
  for (char& c : shown) c = c == '\x1e' ? '|' : c;  // the chat message separator
  std::fprintf(stderr, "\ntext (%zu bytes, | = 0x1E): '%s'\nids:", in.text.size(), shown.c_str());
  for (int32_t id : ids) std::fprintf(stderr, " %d", id);
  std::fprintf(stderr, "\n");
  __builtin_trap();
}

int n_control(const Tokenizer& tok, const std::vector<int32_t>& ids) {
  int n = 0;
  for (int32_t id : ids) n += tok.is_control(id);
  return n;
}

void check_ids(const Tokenizer& tok, const std::vector<int32_t>& ids, const Input& in) {
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.n_vocab()) violated("id outside the vocabulary", in, ids);
  }
}

}  // namespace

CheckOutcome check_tokenizer(std::span<const uint8_t> bytes) {
  CheckOutcome out;
  Input in;
  if (!parse_input(bytes, in)) {
    out.message = "short input";
    return out;
  }
  // Building a vocabulary costs far more than encoding with it (bundled: ~25 ms under ASan), so
  // tokenizers are cached by what defines them (the header, less the flags that only steer the
  // encoding): mutations of the text then run at full speed.
  struct Built {
    std::unique_ptr<Tokenizer> tok;  ///< null when create() failed
    std::string error;
  };
  static std::map<std::string, Built> cache;
  std::string key(reinterpret_cast<const char*>(bytes.data()), bytes.size() - in.text.size());
  key[0] = static_cast<char>(in.flags & 0x17);  // vocabulary, add_bos, add_space_prefix
  key[1] = static_cast<char>(in.pre & 0x0f);    // pre-tokenizer (the high nibble: template)
  auto it = cache.find(key);
  if (it == cache.end()) {
    if (cache.size() >= 32) cache.clear();  // a bundled tokenizer holds a few MB
    auto made = Tokenizer::create(make_data(in));
    Built b;
    if (made.ok()) {
      b.tok = std::move(*made);
    } else {
      b.error = made.message();
    }
    it = cache.emplace(std::move(key), std::move(b)).first;
  }
  if (!it->second.tok) {
    out.message = it->second.error;
    return out;
  }
  out.loaded = true;
  const Tokenizer& t = *it->second.tok;
  const bool add_bos = (in.flags & 4) != 0, parse_special = (in.flags & 8) != 0;
  const bool bundled = (in.flags & 3) < 2;
  if (in.flags & 32) {
    const auto kind = static_cast<ChatTemplateKind>((in.pre >> 4) % 3);
    const auto msgs = messages_of(in.text);
    const auto ids = encode_chat(t, kind, msgs, true);
    check_ids(t, ids, in);
    bool only_special_extras = true;
    for (const auto& e : in.extra) {
      only_special_extras = only_special_extras &&
                            (e.first == TokenType::kControl || e.first == TokenType::kUserDefined);
    }
    if (bundled && only_special_extras) {
      // No role injection: emptying every message leaves the number of control ids unchanged.
      auto empty = msgs;
      for (auto& m : empty) m.content.clear();
      if (n_control(t, ids) != n_control(t, encode_chat(t, kind, empty, true))) {
        violated("message text added a control token", in, ids);
      }
    }
    out.checksum += ids.size();
    return out;
  }
  const auto ids = t.encode(in.text, add_bos, parse_special);
  check_ids(t, ids, in);
  StreamDecoder stream(t, (in.flags & 16) != 0);
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  const std::string decoded = t.decode(ids);
  if ((in.flags & 3) == 1 && in.extra.empty() && !add_bos) {
    // Byte-level BPE: every byte has a token, so the text comes back exactly.
    if (t.decode(t.encode(in.text, false, false)) != in.text) {
      violated("byte-level BPE did not decode its own encoding", in, ids);
    }
  }
  out.checksum += ids.size() + decoded.size() + streamed.size();
  return out;
}

}  // namespace moe::fuzz
