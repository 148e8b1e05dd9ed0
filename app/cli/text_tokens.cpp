#include "app/cli/text_tokens.h"

#include <fstream>
#include <sstream>

namespace moe::cli {

Result<std::vector<int32_t>> read_text_tokens(const std::string& path, const Tokenizer& tok,
                                              int max_tokens) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(path, ": cannot open text file");
  std::ostringstream text;
  text << in.rdbuf();
  std::vector<int32_t> tokens = tok.encode(text.str(), true, false);
  if (max_tokens > 0 && static_cast<int>(tokens.size()) > max_tokens) {
    tokens.resize(static_cast<size_t>(max_tokens));
  }
  if (tokens.size() < 2) return make_error(path, ": need at least 2 tokens of text");
  return tokens;
}

}  // namespace moe::cli
