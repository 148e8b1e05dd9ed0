#include "tests/gguf_fuzz/fuzz_seeds.h"

#include <cstring>
#include <string>
#include <string_view>

#include "core/gguf/gguf_writer.h"
#include "core/quant/types.h"
#include "core/tokenizer/tokenizer.h"

namespace moe::fuzz {
namespace {

constexpr int kEmbd = 32, kFf = 32, kHeadKv = 1, kHead = 2;

std::vector<uint8_t> filled(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + seed);
  return v;
}

// A tensor whose bytes are a pattern except F16/F32, which get small finite values.
void add(GgufWriter& w, const std::string& name, GgmlType type, std::vector<int64_t> shape) {
  const uint64_t n = *GgufWriter::tensor_bytes(type, shape);
  std::vector<uint8_t> bytes = filled(n, static_cast<uint8_t>(name.size()));
  if (type == GgmlType::F32) {
    for (size_t i = 0; i + 4 <= n; i += 4) {
      const float f = 0.01f * static_cast<float>(i % 7);
      std::memcpy(bytes.data() + i, &f, 4);
    }
  } else if (type == GgmlType::F16) {
    for (size_t i = 0; i + 2 <= n; i += 2) bytes[i + 1] = 0x20;  // ~0.008
  }
  (void)w.add_tensor(name, type, std::move(shape), bytes);
}

TokenizerData spm_vocab() {
  TokenizerData d;
  d.model = "llama";
  d.tokens = {"<unk>",
              "<s>",
              "</s>",
              "\xE2\x96\x81",
              "a",
              "b",
              "\xE2\x96\x81"
              "a",
              "ab",
              "[INST]",
              "[/INST]",
              "<0x0A>",
              "c"};
  d.scores = {0, 0, 0, -1, -2, -3, -4, -5, 0, 0, 0, -6};
  d.token_types = {2, 3, 3, 1, 1, 1, 1, 1, 3, 3, 6, 1};
  d.bos_id = 1;
  d.eos_id = 2;
  d.unk_id = 0;
  d.chat_template = "{{ '[INST]' }}";
  return d;
}

TokenizerData bpe_vocab() {
  TokenizerData d;
  d.model = "gpt2";
  d.pre = "llama-bpe";
  d.tokens = {"<|endoftext|>",
              "<|im_start|>",
              "<|im_end|>",
              "a",
              "b",
              "\xC4\xA0",
              "ab",
              "\xC4\xA0"
              "a",
              "<tool>"};
  d.token_types = {3, 3, 3, 1, 1, 1, 1, 1, 4};
  d.merges = {"a b", "\xC4\xA0 a"};
  d.eos_id = 2;
  d.chat_template = "<|im_start|>";
  return d;
}

void hparams(GgufWriter& w, int n_layer, int n_expert) {
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "fuzz-tiny");
  w.set_u32("llama.block_count", static_cast<uint32_t>(n_layer));
  w.set_u32("llama.embedding_length", kEmbd);
  w.set_u32("llama.feed_forward_length", kFf);
  w.set_u32("llama.attention.head_count", kHead);
  w.set_u32("llama.attention.head_count_kv", kHeadKv);
  w.set_u32("llama.context_length", 64);
  w.set_f32("llama.rope.freq_base", 10000.f);
  w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  if (n_expert > 0) {
    w.set_u32("llama.expert_count", static_cast<uint32_t>(n_expert));
    w.set_u32("llama.expert_used_count", 1);
  }
}

void attention(GgufWriter& w, int il, GgmlType t) {
  const std::string b = "blk." + std::to_string(il) + ".";
  const int64_t kv = int64_t{kHeadKv} * (kEmbd / kHead);
  add(w, b + "attn_norm.weight", GgmlType::F32, {kEmbd});
  add(w, b + "ffn_norm.weight", GgmlType::F32, {kEmbd});
  add(w, b + "attn_q.weight", t, {kEmbd, kEmbd});
  add(w, b + "attn_k.weight", t, {kEmbd, kv});
  add(w, b + "attn_v.weight", t, {kEmbd, kv});
  add(w, b + "attn_output.weight", t, {kEmbd, kEmbd});
}

std::vector<uint8_t> merged_moe() {
  GgufWriter w;
  hparams(w, 1, 2);
  const TokenizerData d = spm_vocab();
  write_tokenizer_data(d, w);
  const auto n_vocab = static_cast<int64_t>(d.tokens.size());
  add(w, "token_embd.weight", GgmlType::Q8_0, {kEmbd, n_vocab});
  add(w, "output_norm.weight", GgmlType::F32, {kEmbd});
  add(w, "output.weight", GgmlType::Q8_0, {kEmbd, n_vocab});
  attention(w, 0, GgmlType::Q8_0);
  add(w, "blk.0.ffn_gate_inp.weight", GgmlType::F32, {kEmbd, 2});
  add(w, "blk.0.ffn_gate_exps.weight", GgmlType::Q8_0, {kEmbd, kFf, 2});
  add(w, "blk.0.ffn_up_exps.weight", GgmlType::Q8_0, {kEmbd, kFf, 2});
  add(w, "blk.0.ffn_down_exps.weight", GgmlType::Q8_0, {kFf, kEmbd, 2});
  return std::move(*w.to_bytes());
}

std::vector<uint8_t> dense_tied() {
  GgufWriter w;
  hparams(w, 1, 0);
  const TokenizerData d = bpe_vocab();
  write_tokenizer_data(d, w);
  add(w, "token_embd.weight", GgmlType::F16, {kEmbd, static_cast<int64_t>(d.tokens.size())});
  add(w, "output_norm.weight", GgmlType::F32, {kEmbd});
  attention(w, 0, GgmlType::F16);
  add(w, "blk.0.ffn_gate.weight", GgmlType::F16, {kEmbd, kFf});
  add(w, "blk.0.ffn_up.weight", GgmlType::F16, {kEmbd, kFf});
  add(w, "blk.0.ffn_down.weight", GgmlType::F16, {kFf, kEmbd});
  return std::move(*w.to_bytes());
}

std::vector<uint8_t> per_expert_moe() {
  GgufWriter w;
  hparams(w, 2, 2);
  w.set_string("llama.rope.scaling.type", "linear");
  w.set_f32("llama.rope.scaling.factor", 2.f);
  const TokenizerData d = spm_vocab();
  write_tokenizer_data(d, w);
  add(w, "token_embd.weight", GgmlType::F32, {kEmbd, static_cast<int64_t>(d.tokens.size())});
  add(w, "output_norm.weight", GgmlType::F32, {kEmbd});
  for (int il = 0; il < 2; ++il) {
    attention(w, il, GgmlType::Q8_0);
    const std::string b = "blk." + std::to_string(il) + ".";
    add(w, b + "ffn_gate_inp.weight", GgmlType::F32, {kEmbd, 2});
    for (int e = 0; e < 2; ++e) {
      const std::string x = "." + std::to_string(e) + ".weight";
      add(w, b + "ffn_gate" + x, GgmlType::Q8_0, {kEmbd, kFf});
      add(w, b + "ffn_up" + x, GgmlType::Q8_0, {kEmbd, kFf});
      add(w, b + "ffn_down" + x, GgmlType::Q8_0, {kFf, kEmbd});
    }
  }
  return std::move(*w.to_bytes());
}

// check_tokenizer input: flags, pre-tokenizer, extra tokens, text (tokenizer_check.h).
std::vector<uint8_t> tok_input(uint8_t flags, uint8_t pre,
                               std::vector<std::pair<uint8_t, std::string>> extra,
                               std::string_view text) {
  std::vector<uint8_t> b = {flags, pre, static_cast<uint8_t>(extra.size())};
  for (const auto& [type, t] : extra) {
    b.push_back(type);
    b.push_back(static_cast<uint8_t>(t.size()));
    b.insert(b.end(), t.begin(), t.end());
  }
  b.insert(b.end(), text.begin(), text.end());
  return b;
}

}  // namespace

std::vector<std::vector<uint8_t>> make_model_seeds() {
  return {merged_moe(), dense_tied(), per_expert_moe()};
}

std::vector<std::vector<uint8_t>> make_tokenizer_seeds() {
  // flags: bits 0-1 vocabulary (bundled llama, bundled gpt2, custom llama, custom gpt2),
  // bit 2 add_bos, bit 3 parse_special, bit 4 add_space_prefix, bit 5 chat messages.
  return {
      tok_input(0x0c, 0, {}, "Hello world! [INST] caf\xC3\xA9 </s> 12345"),
      tok_input(0x09, 1, {{3, "<|x|>"}, {4, "<tool>"}}, "<|im_start|>user\nHi<tool><|im_end|>"),
      tok_input(0x2c, 0, {{3, "[INST]"}, {3, "[/INST]"}},
                "S:be brief\x1eWhat is K+?\x1e"
                "3.5-5.0\x1e[/INST] </s> [INST] again"),
      tok_input(0x3e, 2, {{1, "a"}, {1, "b"}, {1, "ab"}, {3, "<c>"}, {4, "u"}}, "abab<c>u ba"),
      tok_input(0x17, 0,
                {{2, "<unk>"},
                 {6, "<0x41>"},
                 {1,
                  "\xE2\x96\x81"
                  "x"},
                 {1, "x"}},
                "x xx \xFF\xC3 x"),
      tok_input(0x2d, 1, {}, "\x1e\x1e<|im_start|>system\n\xF0\x9F\x98\x80\x1e"),
  };
}

}  // namespace moe::fuzz
