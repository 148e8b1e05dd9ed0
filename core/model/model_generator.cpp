// Random-weight Mixtral GGUF generator. Tensor names, shapes and metadata follow llama.cpp's
// llama architecture with experts (LLM_ARCH_LLAMA + expert_count), so llama.cpp and the gguf
// package read the files as they read a converted Mixtral. Shapes are ggml order (ne[0] first):
//   token_embd.weight         {n_embd, n_vocab}         output.weight {n_embd, n_vocab}
//   blk.N.attn_q/output       {n_embd, n_embd}          attn_k/v      {n_embd, n_head_kv *
//   head_dim} blk.N.ffn_gate_inp        {n_embd, n_expert} F32    *_norm        {n_embd} F32
//   blk.N.ffn_gate/up_exps    {n_embd, n_ff, n_expert}  ffn_down_exps {n_ff, n_embd, n_expert}
#include "core/model/model_generator.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "core/quant/quant.h"
#include "core/tokenizer/bundled_vocab.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/limits.h"

namespace moe {
namespace {

enum class Init { kNormWeight, kNormal };

struct TensorSpec {
  std::string name;
  GgmlType type;
  std::vector<int64_t> shape;
  Init init;
  float scale;  // standard deviation of kNormal weights
};

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Standard normal samples by Box-Muller from a mt19937_64 stream (portable: unlike
// std::normal_distribution, the sequence is the same with every standard library).
void fill_normal(std::mt19937_64& rng, float* out, int64_t n, float mean, float stddev) {
  constexpr double kTwoPi = 6.283185307179586;
  constexpr double k2m53 = 1.0 / 9007199254740992.0;
  for (int64_t i = 0; i < n; i += 2) {
    const double u1 = (static_cast<double>(rng() >> 11) + 1.0) * k2m53;  // (0, 1]
    const double u2 = static_cast<double>(rng() >> 11) * k2m53;          // [0, 1)
    const double r = std::sqrt(-2.0 * std::log(u1));
    out[i] = mean + stddev * static_cast<float>(r * std::cos(kTwoPi * u2));
    if (i + 1 < n) out[i + 1] = mean + stddev * static_cast<float>(r * std::sin(kTwoPi * u2));
  }
}

// Emits the tensor in chunks of ~8 MB: rows are generated and quantized by n_threads threads
// (each row from its own seed, so the bytes do not depend on the thread count), then handed
// to the sink in order.
Status produce_tensor(const TensorSpec& t, uint64_t seed, int n_threads, const TensorSink& sink) {
  const int64_t row_len = t.shape[0];
  int64_t n_rows = 1;
  for (size_t d = 1; d < t.shape.size(); ++d) n_rows *= t.shape[d];
  const size_t rb = row_bytes(t.type, row_len);
  const int64_t chunk_rows = std::max<int64_t>(1, static_cast<int64_t>((8u << 20) / rb));
  std::vector<uint8_t> buf;
  for (int64_t r0 = 0; r0 < n_rows; r0 += chunk_rows) {
    const int64_t r1 = std::min(n_rows, r0 + chunk_rows);
    buf.resize(static_cast<size_t>(r1 - r0) * rb);
    std::atomic<bool> ok{true};
    auto work = [&](int64_t a, int64_t b) {
      std::vector<float> row(static_cast<size_t>(row_len));
      for (int64_t r = a; r < b; ++r) {
        std::mt19937_64 rng(row_seed(seed, t.name, r));
        if (t.init == Init::kNormWeight) {
          fill_normal(rng, row.data(), row_len, 1.0f, 0.02f);  // RMSNorm gains near 1
        } else {
          fill_normal(rng, row.data(), row_len, 0.0f, t.scale);
        }
        if (!quantize_row(t.type, row.data(), buf.data() + static_cast<size_t>(r - r0) * rb,
                          row_len)) {
          ok = false;
        }
      }
    };
    const int64_t n = r1 - r0;
    const int threads = static_cast<int>(std::clamp<int64_t>(n_threads, 1, n));
    std::vector<std::thread> pool;
    for (int k = 1; k < threads; ++k) {
      pool.emplace_back(work, r0 + n * k / threads, r0 + n * (k + 1) / threads);
    }
    work(r0, r0 + n / threads);
    for (auto& th : pool) th.join();
    if (!ok) {
      return make_error("cannot quantize tensor '", t.name, "' to ", type_name(t.type),
                        " (no quantizer for this type)");
    }
    MOE_TRY(sink(buf));
  }
  return {};
}

std::vector<TensorSpec> tensor_specs(const ModelPreset& p, WeightMix mix, int64_t n_vocab) {
  const int64_t head_dim = p.n_embd / p.n_head;
  const int64_t n_embd_kv = head_dim * p.n_head_kv;
  std::vector<TensorSpec> specs;
  auto matrix = [&](std::string name, std::string_view role, std::vector<int64_t> shape) {
    const GgmlType type = choose_matrix_type(mix, role, shape[0]);
    const float scale = 1.0f / std::sqrt(static_cast<float>(shape[0]));  // 1 / sqrt(fan_in)
    specs.push_back({std::move(name), type, std::move(shape), Init::kNormal, scale});
  };
  auto norm = [&](std::string name) {
    specs.push_back({std::move(name), GgmlType::F32, {p.n_embd}, Init::kNormWeight, 0.0f});
  };
  matrix("token_embd.weight", "token_embd", {p.n_embd, n_vocab});
  for (int64_t l = 0; l < p.n_layer; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    norm(b + "attn_norm.weight");
    matrix(b + "attn_q.weight", "attn_q", {p.n_embd, p.n_embd});
    matrix(b + "attn_k.weight", "attn_k", {p.n_embd, n_embd_kv});
    matrix(b + "attn_v.weight", "attn_v", {p.n_embd, n_embd_kv});
    matrix(b + "attn_output.weight", "attn_output", {p.n_embd, p.n_embd});
    norm(b + "ffn_norm.weight");
    // The router stays F32 (as in llama.cpp's quantized Mixtrals): it is tiny and decisive.
    specs.push_back({b + "ffn_gate_inp.weight",
                     GgmlType::F32,
                     {p.n_embd, p.n_expert},
                     Init::kNormal,
                     1.0f / std::sqrt(static_cast<float>(p.n_embd))});
    matrix(b + "ffn_gate_exps.weight", "ffn_gate_exps", {p.n_embd, p.n_ff, p.n_expert});
    matrix(b + "ffn_up_exps.weight", "ffn_up_exps", {p.n_embd, p.n_ff, p.n_expert});
    matrix(b + "ffn_down_exps.weight", "ffn_down_exps", {p.n_ff, p.n_embd, p.n_expert});
  }
  norm("output_norm.weight");
  matrix("output.weight", "output", {p.n_embd, n_vocab});
  return specs;
}

Status check_preset(const ModelPreset& p) {
  if (p.n_embd <= 0 || p.n_layer <= 0 || p.n_head <= 0 || p.n_head_kv <= 0 || p.n_ff <= 0 ||
      p.n_expert <= 0 || p.n_expert_used <= 0 || p.n_expert_used > p.n_expert) {
    return make_error("model preset '", p.name, "': sizes must be positive, top-k <= experts");
  }
  if (p.n_embd % p.n_head != 0 || p.n_head % p.n_head_kv != 0) {
    return make_error("model preset '", p.name,
                      "': n_embd % n_head and n_head % n_head_kv must be 0");
  }
  return {};
}

}  // namespace

uint64_t row_seed(uint64_t seed, std::string_view tensor, int64_t row) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a of the name
  for (char c : tensor) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return splitmix64(splitmix64(seed) ^ splitmix64(h) ^ splitmix64(static_cast<uint64_t>(row)));
}

Result<GgufWriter> build_model_writer(const GenerateOptions& opt) {
  if (opt.n_threads < 1 || opt.n_threads > kMaxThreads) {
    return make_error("threads: ", std::to_string(opt.n_threads), " is outside [1, ",
                      std::to_string(kMaxThreads), "]");
  }
  const ModelPreset& p = opt.preset;
  MOE_TRY(check_preset(p));
  auto vocab = bundled_vocab(opt.vocab);
  if (!vocab) return vocab.error();
  TokenizerData tok = std::move(*vocab);
  const int64_t n_vocab = p.n_vocab > 0 ? p.n_vocab : static_cast<int64_t>(tok.tokens.size());
  if (n_vocab < static_cast<int64_t>(tok.tokens.size())) {
    return make_error("model preset '", p.name, "': vocab size ", std::to_string(n_vocab),
                      " is smaller than the '", opt.vocab, "' vocabulary");
  }
  // Pad to the preset's vocab size with unused tokens (embedding rows exist, never produced).
  if (tok.token_types.empty()) tok.token_types.assign(tok.tokens.size(), 1);
  const bool has_scores = !tok.scores.empty();
  for (int64_t i = static_cast<int64_t>(tok.tokens.size()); i < n_vocab; ++i) {
    tok.tokens.push_back("<unused" + std::to_string(i) + ">");
    tok.token_types.push_back(static_cast<int32_t>(TokenType::kUnused));
    if (has_scores) tok.scores.push_back(-1e9f);
  }
  if (tok.chat_template.empty()) tok.chat_template = std::string(kMixtralChatTemplate);

  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("general.name", "moe-studio " + p.name + " (random weights)");
  w.set_u32("general.file_type", weight_mix_file_type(opt.mix));
  if (opt.mix != WeightMix::kF16) w.set_u32("general.quantization_version", 2);
  w.set_u32("llama.context_length", static_cast<uint32_t>(p.n_ctx));
  w.set_u32("llama.embedding_length", static_cast<uint32_t>(p.n_embd));
  w.set_u32("llama.block_count", static_cast<uint32_t>(p.n_layer));
  w.set_u32("llama.feed_forward_length", static_cast<uint32_t>(p.n_ff));
  w.set_u32("llama.attention.head_count", static_cast<uint32_t>(p.n_head));
  w.set_u32("llama.attention.head_count_kv", static_cast<uint32_t>(p.n_head_kv));
  w.set_f32("llama.rope.freq_base", static_cast<float>(p.rope_freq_base));
  w.set_f32("llama.attention.layer_norm_rms_epsilon", static_cast<float>(p.rms_eps));
  w.set_u32("llama.expert_count", static_cast<uint32_t>(p.n_expert));
  w.set_u32("llama.expert_used_count", static_cast<uint32_t>(p.n_expert_used));
  w.set_u32("llama.vocab_size", static_cast<uint32_t>(n_vocab));
  w.set_u32("llama.rope.dimension_count", static_cast<uint32_t>(p.n_embd / p.n_head));
  w.set_bool("moe.random_weights", true);
  w.set_string("moe.preset", p.name);
  w.set_u64("moe.seed", opt.seed);
  write_tokenizer_data(tok, w);

  for (TensorSpec& spec : tensor_specs(p, opt.mix, n_vocab)) {
    const std::string name = spec.name;
    const GgmlType type = spec.type;
    std::vector<int64_t> shape = spec.shape;
    TensorProducer producer = [spec = std::move(spec), seed = opt.seed,
                               threads = opt.n_threads](const TensorSink& sink) {
      return produce_tensor(spec, seed, threads, sink);
    };
    MOE_TRY(w.add_tensor(name, type, std::move(shape), std::move(producer)));
  }
  return w;
}

Result<MakeModelStats> generate_model(const GenerateOptions& opt, const std::string& path) {
  const auto t0 = std::chrono::steady_clock::now();
  auto w = build_model_writer(opt);
  if (!w) return w.error();
  MOE_TRY(w->write(path));
  MakeModelStats st;
  std::error_code ec;
  st.file_bytes = std::filesystem::file_size(path, ec);
  st.n_tensors = w->n_tensors();
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return st;
}

}  // namespace moe
