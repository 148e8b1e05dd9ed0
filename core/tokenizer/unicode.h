#pragma once
// UTF-8 decoding and the Unicode classes the BPE pre-tokenizer regexes need (\p{L}, \p{N}, \s).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace moe::unicode {

/// Length of the UTF-8 sequence starting with lead byte `c` (1 for invalid lead bytes, so a
/// broken byte is treated as one character of its own).
inline size_t utf8_len(uint8_t c) {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

/// Decodes the character at text[pos]; *len receives its byte length (clamped to the text).
/// Invalid or truncated sequences decode as U+FFFD with length 1.
uint32_t decode_utf8(std::string_view text, size_t pos, size_t* len);
void append_utf8(std::string& out, uint32_t cp);

/// Length of the longest prefix of `bytes` that ends on a complete UTF-8 character boundary
/// (an incomplete trailing sequence of up to 3 bytes is excluded).
size_t complete_utf8_prefix(std::string_view bytes);

bool is_letter(uint32_t cp);      ///< general category L*
bool is_number(uint32_t cp);      ///< general category N*
bool is_whitespace(uint32_t cp);  ///< White_Space property (regex \s)

}  // namespace moe::unicode
