#include "core/engine/text_tokens.h"

#include <algorithm>
#include <new>
#include <string_view>

#include "core/util/regular_file.h"

namespace moe {
namespace {

// Where to end a prefix: after the last line break in its second half, else after the last
// space there, else before a UTF-8 continuation byte run (never inside a character).
size_t cut_point(std::string_view text) {
  const size_t half = text.size() / 2;
  for (const char sep : {'\n', ' '}) {
    const size_t p = text.rfind(sep);
    if (p != std::string_view::npos && p >= half) return p + 1;
  }
  size_t p = text.size();
  while (p > half && (static_cast<unsigned char>(text[p - 1]) & 0xC0) == 0x80) --p;
  if (p > half && static_cast<unsigned char>(text[p - 1]) >= 0xC0) --p;  // a lead byte
  return p;
}

Result<std::vector<int32_t>> enough(const std::string& path, std::vector<int32_t> tokens,
                                    int max_tokens) {
  if (max_tokens > 0 && static_cast<int>(tokens.size()) > max_tokens) {
    tokens.resize(static_cast<size_t>(max_tokens));
  }
  if (tokens.size() < 2) return make_error(path, ": need at least 2 tokens of text");
  return tokens;
}

Result<std::vector<int32_t>> read_tokens(const std::string& path, const Tokenizer& tok,
                                         const TextTokensOptions& o) {
  auto file = RegularFile::open(path, "text file");
  if (!file.ok()) return file.error();
  // The hint (a token limit, in a front end's words) helps only when there is none yet.
  const bool hint = !o.too_large_hint.empty() && o.max_tokens <= 0;
  const auto too_large = [&](const std::string& what) {
    return make_error(path, ": ", what, "; the limit is ", format_bytes(o.max_bytes),
                      hint ? " (" : "", hint ? o.too_large_hint : "", hint ? ")" : "");
  };
  if (o.max_tokens <= 0) {
    if (file->size() > o.max_bytes) {
      return too_large("the text file is " + format_bytes(file->size()));
    }
    auto text = file->read(0, o.max_bytes + 1);  // one more byte: a file that grew meanwhile
    if (!text.ok()) return text.error();
    if (text->size() > o.max_bytes) return too_large("the text file grew while it was read");
    return enough(path, tok.encode(*text, true, false), 0);
  }
  // A guess of the bytes N tokens take (a few per token in prose), doubled until enough.
  const uint64_t need = static_cast<uint64_t>(o.max_tokens) + kTextTokensMargin;
  uint64_t want = std::min<uint64_t>(need * 8 + 4096, o.max_bytes);
  std::string text;
  for (;;) {
    auto more = file->read(text.size(), want - text.size());
    if (!more.ok()) return more.error();
    text += *more;
    // The end (what the file held when opened): the whole text is encoded.
    if (text.size() < want || text.size() >= file->size()) {
      return enough(path, tok.encode(text, true, false), o.max_tokens);
    }
    std::vector<int32_t> tokens =
        tok.encode(std::string_view(text).substr(0, cut_point(text)), true, false);
    if (tokens.size() >= need) return enough(path, std::move(tokens), o.max_tokens);
    if (want >= o.max_bytes) {
      return too_large("the first " + std::to_string(o.max_tokens) + " tokens need more than " +
                       format_bytes(o.max_bytes) + " of text");
    }
    want = std::min(want * 2, o.max_bytes);
  }
}

}  // namespace

Result<std::vector<int32_t>> read_text_tokens(const std::string& path, const Tokenizer& tok,
                                              const TextTokensOptions& o) {
  try {
    return read_tokens(path, tok, o);
  } catch (const std::bad_alloc&) {  // the tokenizer's work memory grows with the text
    return make_error(path, ": not enough memory to tokenize this text",
                      o.too_large_hint.empty() ? "" : " (", o.too_large_hint,
                      o.too_large_hint.empty() ? "" : ")");
  }
}

}  // namespace moe
