#pragma once
// The tokens of a text file for teacher-forced scoring (moe-cli perplexity, wdmoe-sim).
//
// Only what is used is read and tokenized: with a token limit N, a prefix of the file is
// encoded, grown (doubling) until it gives at least N + kTextTokensMargin tokens or reaches the
// end of the file, and its first N tokens are kept. A tokenizer's output near the end of a text
// depends on where the text ends (a word cut in two, a run of newlines), never on text many
// tokens further on, so those N tokens are the first N of the whole file's encoding (tested
// against encoding the whole file, both bundled vocabularies, many N). The prefix is cut at a
// line break (else a space, else a UTF-8 boundary) in its second half to keep the margin small.
#include <cstdint>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/util/limits.h"
#include "core/util/status.h"

namespace moe {

/// Tokens encoded beyond the limit and dropped: the part of a prefix's encoding that may differ
/// from the whole text's.
inline constexpr int kTextTokensMargin = 64;

struct TextTokensOptions {
  int max_tokens = 0;                         ///< keep the first N tokens (0: all of the text)
  uint64_t max_bytes = kDefaultMaxTextBytes;  ///< most bytes read (whole file or prefix)
  /// Appended to the "file too large" error (a front end's way round it, e.g. "use -n N").
  std::string too_large_hint;
};

/// Reads a UTF-8 text file (a regular file only: a FIFO or a device is refused at once) and
/// encodes it with BOS as the vocabulary says, special-token text not parsed. Errors name the
/// file: it cannot be opened, is not a regular file, is larger than max_bytes (with no token
/// limit, before anything is read), or gives fewer than 2 tokens (nothing to predict).
Result<std::vector<int32_t>> read_text_tokens(const std::string& path, const Tokenizer& tok,
                                              const TextTokensOptions& options);

}  // namespace moe
