#pragma once
// Text files for the teacher-forced commands (perplexity, wdmoe-sim).
#include <cstdint>
#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"
#include "core/util/status.h"

namespace moe::cli {

/// Reads a UTF-8 text file and encodes it (BOS added as the vocabulary says), keeping the first
/// `max_tokens` tokens (0: all). An Error names the file if it cannot be read or gives fewer
/// than 2 tokens (nothing to predict).
Result<std::vector<int32_t>> read_text_tokens(const std::string& path, const Tokenizer& tok,
                                              int max_tokens);

}  // namespace moe::cli
