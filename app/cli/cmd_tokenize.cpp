// moe-cli tokenize: the token ids and pieces of a text, printed as llama.cpp's llama-tokenize
// prints them, so a model's tokenization can be checked and compared with other engines'.
// Only the tokenizer is read (tokenizer.ggml.* metadata), never the weights: a model file and a
// vocab-only GGUF (metadata, no tensors) both work.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/cli/command.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/limits.h"
#include "core/util/regular_file.h"

namespace moe::cli {
namespace {

struct TokenizeOptions {
  std::string model, prompt, file;
  bool from_stdin = false, ids = false, json = false, no_bos = false, no_parse_special = false;
  bool no_escape = false, vocab_only = false, show_count = false;
  const CLI::Option* prompt_option = nullptr;
};

/// llama-tokenize's escapes in a prompt typed on the command line: \n \r \t \' \" \\ and \xHH;
/// any other backslash stays as it is.
std::string process_escapes(const std::string& in) {
  auto hex = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\\' || i + 1 == in.size()) {
      out += in[i];
      continue;
    }
    const char c = in[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '\'':
      case '"':
      case '\\':
        out += c;
        break;
      case 'x':
        if (i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
          out += static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2]));
          i += 2;
          break;
        }
        [[fallthrough]];
      default:
        out += '\\';
        out += c;
    }
  }
  return out;
}

/// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    const size_t n = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (size_t k = 1; k < n; ++k) {
      const auto b = static_cast<uint8_t>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    constexpr uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

// -f and --stdin: at most kDefaultMaxTextBytes (every token is printed, so all is tokenized).
Result<std::string> read_text(const TokenizeOptions& o) {
  if (o.from_stdin) return read_stdin_capped(kDefaultMaxTextBytes);
  if (!o.file.empty()) return read_regular_file(o.file, kDefaultMaxTextBytes, "text file");
  return o.no_escape ? o.prompt : process_escapes(o.prompt);
}

void print_tokens(const TokenizeOptions& o, const Tokenizer& tok, const std::vector<int32_t>& ids) {
  if (o.ids) {
    std::printf("[");
    for (size_t i = 0; i < ids.size(); ++i) std::printf(i > 0 ? ", %d" : "%d", ids[i]);
    std::printf("]\n");
  } else if (o.json) {
    // A piece that is not valid UTF-8 (a lone byte token) is a list of its byte values, as
    // llama.cpp's server /tokenize answers with_pieces.
    std::printf("[");
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string piece = tok.token_bytes(ids[i]);
      nlohmann::json j = {{"id", ids[i]}};
      if (is_valid_utf8(piece)) {
        j["piece"] = piece;
      } else {
        std::vector<int> bytes;
        for (const char c : piece) bytes.push_back(static_cast<uint8_t>(c));
        j["piece"] = bytes;
      }
      std::printf("%s\n  %s", i > 0 ? "," : "", j.dump().c_str());
    }
    std::printf("%s]\n", ids.empty() ? "" : "\n");
  } else {
    // llama-tokenize's lines: the piece's bytes as they are, between quotes.
    for (int32_t id : ids) {
      const std::string piece = tok.token_bytes(id);
      std::printf("%6d -> '", id);
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::printf("'\n");
    }
  }
  if (o.show_count && !o.json) std::printf("Total number of tokens: %zu\n", ids.size());
}

int tokenize(const TokenizeOptions& o) {
  const bool has_prompt = o.prompt_option != nullptr && o.prompt_option->count() > 0;
  if (static_cast<int>(has_prompt) + static_cast<int>(!o.file.empty()) +
          static_cast<int>(o.from_stdin) !=
      1) {
    std::fprintf(stderr, "error: give the text with exactly one of -p, -f or --stdin\n");
    return 2;
  }
  auto tok = open_gguf_tokenizer(o.model);
  if (!tok.ok()) {
    std::fprintf(stderr, "error: %s\n", tok.message().c_str());
    return 1;
  }
  auto text = read_text(o);
  if (!text.ok()) {
    std::fprintf(stderr, "error: %s\n", text.message().c_str());
    return 1;
  }
  // As llama-tokenize: BOS (and EOS) when the vocabulary adds them, unless --no-bos.
  const std::vector<int32_t> ids = (*tok)->encode(*text, !o.no_bos, !o.no_parse_special);
  print_tokens(o, **tok, ids);
  return 0;
}

const CommandRegistration kTokenize{
    15, "tokenize", "Print the tokens of a text (as llama-tokenize)", [](CLI::App& app) {
      auto o = std::make_shared<TokenizeOptions>();
      app.footer(
          "Reads only the tokenizer metadata of the GGUF file, never its weights, so a "
          "vocab-only file works as well as a model. Output: one line per token, "
          "\"   415 -> ' the'\" (the piece's bytes as they are); --ids: [1, 2, 3]; --json: "
          "[{\"id\": 1, \"piece\": \"...\"}, ...] with a piece that is not valid UTF-8 given as "
          "a list of byte values. -p text has \\n, \\t, \\\", \\\\, \\xHH escapes processed "
          "(as llama-tokenize; --no-escape: off); -f and --stdin text is used byte for byte.");
      app.add_option("-m,--model", o->model, "GGUF file: a model or a vocab-only file")->required();
      o->prompt_option = app.add_option("-p,--prompt", o->prompt, "The text to tokenize");
      app.add_option("-f,--file", o->file,
                     "Read the text from this file (a regular file, at most 64 MiB)");
      app.add_flag("--stdin", o->from_stdin, "Read the text from standard input (at most 64 MiB)");
      app.add_flag("--ids", o->ids, "Print only the ids, as [1, 2, 3]");
      app.add_flag("--json", o->json, "Print [{\"id\", \"piece\"}, ...] as JSON")
          ->excludes("--ids");
      app.add_flag("--no-bos", o->no_bos, "Do not add BOS (nor EOS) even if the vocabulary does");
      app.add_flag("--no-parse-special", o->no_parse_special,
                   "Tokenize the text of special tokens (\"<s>\", \"[INST]\") as plain text");
      app.add_flag("--no-escape", o->no_escape,
                   "Take -p text literally (no \\n, \\t, ... escapes)");
      app.add_flag("--show-count", o->show_count, "Also print the number of tokens");
      app.add_flag("--vocab-only", o->vocab_only,
                   "Read only the tokenizer (always the case; accepted for scripts that say so)");
      return [o] { return tokenize(*o); };
    }};

}  // namespace
}  // namespace moe::cli
