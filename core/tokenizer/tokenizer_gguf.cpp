// TokenizerData <-> GGUF metadata (tokenizer.ggml.*, tokenizer.chat_template).
#include <cstdint>

#include "core/gguf/gguf_file.h"
#include "core/gguf/gguf_writer.h"
#include "core/tokenizer/tokenizer.h"

namespace moe {
namespace {

// Far above any released vocabulary (Gemma 3: 262k tokens; Llama 3: 280k merges) and far below
// what a hostile file could make the tokenizer hold: every token becomes a string and map
// entries (~100 bytes) however short it is on disk.
constexpr size_t kMaxVocab = size_t{1} << 20;
constexpr size_t kMaxMerges = size_t{1} << 22;

// The element count of an array key, checked before its elements are copied out: at most
// `max`, and `expected` when that is not 0. A missing or non-array key passes (the typed getter
// reports it).
Status check_count(const GgufFile& f, std::string_view key, size_t max, size_t expected = 0) {
  const GgufValue* v = f.find(key);
  const auto* a = v != nullptr ? std::get_if<GgufArray>(&v->v) : nullptr;
  if (a == nullptr) return {};
  if (a->size() > max) {
    return make_error(f.path(), ": ", std::string(key), " has ", std::to_string(a->size()),
                      " entries; at most ", std::to_string(max), " are supported");
  }
  if (expected != 0 && a->size() != expected) {
    return make_error(f.path(), ": ", std::string(key), " has ", std::to_string(a->size()),
                      " entries for ", std::to_string(expected), " tokens");
  }
  return {};
}

// Optional integer key: -1 when absent.
Status read_id(const GgufFile& f, std::string_view key, int32_t* out) {
  if (!f.has(key)) return {};
  auto v = f.get_int(key);
  if (!v) return v.error();
  if (*v < -1 || *v > INT32_MAX)
    return make_error(f.path(), ": ", std::string(key), " = ", std::to_string(*v),
                      " is not a token id");
  *out = static_cast<int32_t>(*v);
  return {};
}

Status read_flag(const GgufFile& f, std::string_view key, bool* out) {
  if (!f.has(key)) return {};
  auto v = f.get_bool(key);
  if (!v) return v.error();
  *out = *v;
  return {};
}

}  // namespace

Result<TokenizerData> read_tokenizer_data(const GgufFile& f) {
  TokenizerData d;
  auto model = f.get_string("tokenizer.ggml.model");
  if (!model) return model.error();
  d.model = *model;
  if (f.has("tokenizer.ggml.pre")) {
    auto pre = f.get_string("tokenizer.ggml.pre");
    if (!pre) return pre.error();
    d.pre = *pre;
  }
  MOE_TRY(check_count(f, "tokenizer.ggml.tokens", kMaxVocab));
  auto tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (!tokens) return tokens.error();
  d.tokens = std::move(*tokens);
  // Sizes before contents: a mismatched array is not converted at all.
  MOE_TRY(check_count(f, "tokenizer.ggml.scores", kMaxVocab, d.tokens.size()));
  MOE_TRY(check_count(f, "tokenizer.ggml.token_type", kMaxVocab, d.tokens.size()));
  MOE_TRY(check_count(f, "tokenizer.ggml.merges", kMaxMerges));
  if (f.has("tokenizer.ggml.scores")) {
    auto s = f.get_float_array("tokenizer.ggml.scores");
    if (!s) return s.error();
    d.scores = std::move(*s);
  }
  if (f.has("tokenizer.ggml.token_type")) {
    auto t = f.get_int_array("tokenizer.ggml.token_type");
    if (!t) return t.error();
    d.token_types = std::move(*t);
  }
  if (f.has("tokenizer.ggml.merges")) {
    auto m = f.get_string_array("tokenizer.ggml.merges");
    if (!m) return m.error();
    d.merges = std::move(*m);
  }
  MOE_TRY(read_id(f, "tokenizer.ggml.bos_token_id", &d.bos_id));
  MOE_TRY(read_id(f, "tokenizer.ggml.eos_token_id", &d.eos_id));
  MOE_TRY(read_id(f, "tokenizer.ggml.unknown_token_id", &d.unk_id));
  MOE_TRY(read_id(f, "tokenizer.ggml.padding_token_id", &d.pad_id));
  MOE_TRY(read_id(f, "tokenizer.ggml.eot_token_id", &d.eot_id));
  // llama.cpp defaults: SentencePiece adds BOS and the space prefix, BPE neither.
  d.add_bos = d.model == "llama";
  d.add_space_prefix = d.model == "llama";
  MOE_TRY(read_flag(f, "tokenizer.ggml.add_bos_token", &d.add_bos));
  MOE_TRY(read_flag(f, "tokenizer.ggml.add_eos_token", &d.add_eos));
  MOE_TRY(read_flag(f, "tokenizer.ggml.add_space_prefix", &d.add_space_prefix));
  if (f.has("tokenizer.chat_template")) {
    auto t = f.get_string("tokenizer.chat_template");
    if (!t) return t.error();
    d.chat_template = std::move(*t);
  }
  const size_t n = d.tokens.size();
  if (!d.scores.empty() && d.scores.size() != n)
    return make_error(f.path(), ": tokenizer.ggml.scores has ", std::to_string(d.scores.size()),
                      " entries for ", std::to_string(n), " tokens");
  if (!d.token_types.empty() && d.token_types.size() != n)
    return make_error(f.path(), ": tokenizer.ggml.token_type has ",
                      std::to_string(d.token_types.size()), " entries for ", std::to_string(n),
                      " tokens");
  return d;
}

Result<std::unique_ptr<Tokenizer>> open_gguf_tokenizer(const std::string& path) {
  auto file = GgufFile::open(path);  // its errors name the file
  if (!file.ok()) return file.error();
  if (!(*file)->has("tokenizer.ggml.model"))
    return make_error(path, ": no tokenizer in this file (tokenizer.ggml.model is missing)");
  auto data = read_tokenizer_data(**file);
  if (!data.ok()) return data.error();
  auto tok = Tokenizer::create(std::move(data).value());
  if (!tok.ok()) return make_error(path, ": ", tok.message());  // "tokenizer: ..."
  return tok;
}

void write_tokenizer_data(const TokenizerData& d, GgufWriter& w) {
  w.set_string("tokenizer.ggml.model", d.model);
  if (!d.pre.empty()) w.set_string("tokenizer.ggml.pre", d.pre);
  w.set_string_array("tokenizer.ggml.tokens", d.tokens);
  if (!d.scores.empty()) w.set_f32_array("tokenizer.ggml.scores", d.scores);
  if (!d.token_types.empty()) w.set_i32_array("tokenizer.ggml.token_type", d.token_types);
  if (!d.merges.empty()) w.set_string_array("tokenizer.ggml.merges", d.merges);
  auto id = [&](std::string_view key, int32_t v) {
    if (v >= 0) w.set_u32(key, static_cast<uint32_t>(v));
  };
  id("tokenizer.ggml.bos_token_id", d.bos_id);
  id("tokenizer.ggml.eos_token_id", d.eos_id);
  id("tokenizer.ggml.unknown_token_id", d.unk_id);
  id("tokenizer.ggml.padding_token_id", d.pad_id);
  id("tokenizer.ggml.eot_token_id", d.eot_id);
  w.set_bool("tokenizer.ggml.add_bos_token", d.add_bos);
  w.set_bool("tokenizer.ggml.add_eos_token", d.add_eos);
  w.set_bool("tokenizer.ggml.add_space_prefix", d.add_space_prefix);
  if (!d.chat_template.empty()) w.set_string("tokenizer.chat_template", d.chat_template);
}

}  // namespace moe
