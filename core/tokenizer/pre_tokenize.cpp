#include "core/tokenizer/pre_tokenize.h"

#include <cstdint>

#include "core/tokenizer/unicode.h"

namespace moe {
namespace {

enum Cls : uint8_t { kL, kN, kS, kO };  // letter, number, whitespace, other

struct Chars {
  std::vector<uint32_t> cp;
  std::vector<uint8_t> cls;
  std::vector<size_t> off;  // byte offset of each character; off[n] = text size
};

Chars classify(std::string_view text) {
  Chars c;
  for (size_t pos = 0; pos < text.size();) {
    size_t len = 1;
    const uint32_t cp = unicode::decode_utf8(text, pos, &len);
    c.cp.push_back(cp);
    c.cls.push_back(unicode::is_letter(cp)       ? kL
                    : unicode::is_number(cp)     ? kN
                    : unicode::is_whitespace(cp) ? kS
                                                 : kO);
    c.off.push_back(pos);
    pos += len;
  }
  c.off.push_back(text.size());
  return c;
}

uint32_t lower_ascii(uint32_t cp) {
  return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
}

// Length (in characters) of a contraction 's 't 're 've 'm 'll 'd at i, or 0.
size_t contraction(const Chars& c, size_t i, bool ignore_case) {
  const size_t n = c.cp.size();
  if (c.cp[i] != '\'' || i + 1 >= n) return 0;
  auto at = [&](size_t k) { return ignore_case ? lower_ascii(c.cp[k]) : c.cp[k]; };
  const uint32_t a = at(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= n) return 0;
  const uint32_t b = at(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

size_t run(const Chars& c, size_t j, Cls cls) {
  while (j < c.cls.size() && c.cls[j] == cls) ++j;
  return j;
}

// \s+(?!\S)|\s+ at a whitespace character i: the run minus its last character when a
// non-space follows a run of two or more (that last space then prefixes the next word).
size_t whitespace_end(const Chars& c, size_t i) {
  const size_t j = run(c, i, kS);
  return (j == c.cls.size() || j - i == 1) ? j : j - 1;
}

size_t next_gpt2(const Chars& c, size_t i) {
  const size_t n = c.cls.size();
  if (size_t k = contraction(c, i, false)) return i + k;
  const bool space_prefix = c.cp[i] == ' ' && i + 1 < n;
  for (Cls cls : {kL, kN, kO}) {  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+"
    if (c.cls[i] == cls) return run(c, i, cls);
    if (space_prefix && c.cls[i + 1] == cls) return run(c, i + 1, cls);
  }
  return whitespace_end(c, i);
}

size_t next_llama3(const Chars& c, size_t i, size_t max_digits) {
  const size_t n = c.cls.size();
  if (size_t k = contraction(c, i, true)) return i + k;
  const uint32_t cp = c.cp[i];
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c.cls[i] == kL) return run(c, i, kL);
  if (cp != '\r' && cp != '\n' && c.cls[i] != kN && i + 1 < n && c.cls[i + 1] == kL)
    return run(c, i + 1, kL);
  // \p{N}{1,3} (qwen2: \p{N})
  if (c.cls[i] == kN) {
    size_t j = i;
    while (j < n && j - i < max_digits && c.cls[j] == kN) ++j;
    return j;
  }
  // " ?[^\s\p{L}\p{N}]+[\r\n]*"
  size_t j = i;
  if (c.cls[i] == kO) {
    j = run(c, i, kO);
  } else if (cp == ' ' && i + 1 < n && c.cls[i + 1] == kO) {
    j = run(c, i + 1, kO);
  }
  if (j != i) {
    while (j < n && (c.cp[j] == '\r' || c.cp[j] == '\n')) ++j;
    return j;
  }
  // \s*[\r\n]+ : the whitespace run up to and including its last \r or \n.
  const size_t end = run(c, i, kS);
  for (size_t k = end; k > i; --k) {
    if (c.cp[k - 1] == '\r' || c.cp[k - 1] == '\n') return k;
  }
  return whitespace_end(c, i);
}

}  // namespace

void pre_tokenize(PreTokenizer kind, std::string_view text, std::vector<std::string_view>& out) {
  const Chars c = classify(text);
  const size_t n = c.cls.size();
  for (size_t i = 0; i < n;) {
    size_t j = kind == PreTokenizer::kGpt2
                   ? next_gpt2(c, i)
                   : next_llama3(c, i, kind == PreTokenizer::kQwen2 ? 1 : 3);
    if (j <= i) j = i + 1;  // cannot happen with the alternations above; never loop forever
    out.push_back(text.substr(c.off[i], c.off[j] - c.off[i]));
    i = j;
  }
}

}  // namespace moe
