#pragma once
// Tokenizers built from GGUF metadata (tokenizer.ggml.*): SentencePiece-style ("llama": scores,
// token types, byte fallback <0xNN>, "▁" for spaces) and byte-level BPE ("gpt2": merges, the
// pre-tokenizer regex named by tokenizer.ggml.pre, GPT-2 byte<->unicode mapping).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/status.h"

namespace moe {

class GgufFile;

/// GGUF token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

/// Everything a tokenizer needs, as stored under tokenizer.ggml.* (and tokenizer.chat_template).
struct TokenizerData {
  std::string model;  ///< "llama" (SentencePiece) or "gpt2" (byte-level BPE)
  std::string pre;    ///< pre-tokenizer name for gpt2 ("llama-bpe", "gpt2", ...)
  std::vector<std::string> tokens;
  std::vector<float> scores;         ///< llama: piece scores; may be empty for gpt2
  std::vector<int32_t> token_types;  ///< TokenType values; empty = all normal
  std::vector<std::string> merges;   ///< gpt2: "a b" pairs in rank order
  int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1, eot_id = -1;
  bool add_bos = true, add_eos = false;
  bool add_space_prefix = true;  ///< llama: prepend "▁" to the text
  std::string chat_template;     ///< tokenizer.chat_template (Jinja source), may be empty
};

/// Reads tokenizer.ggml.* from a GGUF file; an Error names the missing/mis-typed key.
Result<TokenizerData> read_tokenizer_data(const GgufFile& file);
/// Writes `data` back as metadata keys (used by the GGUF writer / model generator).
class GgufWriter;
void write_tokenizer_data(const TokenizerData& data, GgufWriter& writer);

class Tokenizer;
/// Opens only the tokenizer of a GGUF file, a model or a vocab-only file (tokenizer.ggml.*
/// metadata, no tensors); no weights are read. Errors name the file: it cannot be opened or
/// parsed, it has no tokenizer.ggml.model, or the tokenizer data is bad.
Result<std::unique_ptr<Tokenizer>> open_gguf_tokenizer(const std::string& path);

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  /// Builds the tokenizer named by data.model; an Error for unknown models or bad data.
  static Result<std::unique_ptr<Tokenizer>> create(TokenizerData data);

  /// Text -> token ids. add_bos = "add the vocabulary's specials": BOS when data.add_bos, EOS
  /// when data.add_eos (llama.cpp's add_special). parse_special turns the text of
  /// control/user-defined tokens (e.g. "[INST]", "<|im_start|>") into their ids (leftmost,
  /// longest match); user-defined tokens are matched even without it, as in llama.cpp.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const;

  /// A piece of a prompt: text (id < 0) or a token id taken as it is.
  struct Piece {
    std::string_view text;
    int32_t id = -1;
  };
  /// Encodes a prompt given as pieces: an id piece is emitted as it is; a text piece is split
  /// for special tokens with `parse_special` and encoded. The result is what encode() gives for
  /// the concatenated text when exactly the id pieces are found as special tokens (same
  /// SentencePiece space prefixes); encode(text) is the one-piece case.
  virtual std::vector<int32_t> encode_pieces(const std::vector<Piece>& pieces, bool add_bos,
                                             bool parse_special) const = 0;
  /// The raw bytes a token stands for (byte tokens decoded, "▁" -> " ", gpt2 bytes unmapped).
  /// May be an incomplete UTF-8 sequence; use StreamDecoder for display.
  virtual std::string token_bytes(int32_t id) const = 0;
  /// Whole-sequence decode (drops the leading space SentencePiece adds, skips control tokens).
  std::string decode(const std::vector<int32_t>& ids) const;

  const TokenizerData& data() const { return data_; }
  int32_t n_vocab() const { return static_cast<int32_t>(data_.tokens.size()); }
  int32_t bos() const { return data_.bos_id; }
  int32_t eos() const { return data_.eos_id; }
  bool is_control(int32_t id) const;
  /// End of generation: eos, eot, or a control token such as <|im_end|> / <|eot_id|>.
  bool is_end_of_generation(int32_t id) const;

 protected:
  explicit Tokenizer(TokenizerData data) : data_(std::move(data)) {}
  TokenizerData data_;
};

/// Turns a stream of tokens into text that never splits a UTF-8 character: push() returns the
/// complete characters available so far, holding back an incomplete tail.
class StreamDecoder {
 public:
  /// starts_text: the tokens begin a new text (a chat answer after the template's markers), so
  /// the leading space SentencePiece writes before a word is dropped from the first piece.
  /// false: they continue a text (a completion after a raw prompt) and every space is kept,
  /// so that prompt + output reads as one text (as llama.cpp prints it).
  explicit StreamDecoder(const Tokenizer& tok, bool starts_text = true)
      : tok_(tok), starts_text_(starts_text) {}
  std::string push(int32_t id);
  std::string flush();  ///< whatever is held back (invalid bytes become U+FFFD)
  void reset();

 private:
  const Tokenizer& tok_;
  std::string pending_;
  bool starts_text_;
  bool first_ = true;
};

}  // namespace moe
