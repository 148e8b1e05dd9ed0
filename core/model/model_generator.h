#pragma once
// Synthetic Mixtral-architecture GGUF files with random weights (`moe-cli make-model`): the
// standard llama.cpp tensor names and metadata keys (general.architecture = "llama" with
// llama.expert_count > 0), a real bundled vocabulary, and `moe.random_weights = true`.
// Weights are produced tensor by tensor at write time (GgufWriter producers), so even the
// 26 GB mixtral-8x7b preset needs only a few MB of memory.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/gguf/gguf_writer.h"
#include "core/quant/types.h"
#include "core/util/status.h"

namespace moe {

/// Shapes of a Mixtral-style model. n_vocab = 0: the bundled vocabulary's size.
struct ModelPreset {
  std::string name;
  int64_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0;
  int64_t n_ff = 0;  ///< per-expert FFN width (also written as feed_forward_length)
  int64_t n_expert = 0, n_expert_used = 0, n_ctx = 0, n_vocab = 0;
  double rope_freq_base = 10000.0, rms_eps = 1e-5;
};

/// "demo", "mixtral-mini", "mixtral-8x7b"; an Error listing the names otherwise.
Result<ModelPreset> model_preset(std::string_view name);
std::vector<std::string> model_preset_names();

/// Weight formats: which ggml type each matrix gets (norms and the router are always F32).
///   f16, q8_0, q4_0: every matrix in that type (q4_0: output.weight Q6_K, as llama.cpp).
///   q4_k_m: Q4_K, with Q6_K for output.weight and ffn_down (experts), as llama.cpp's mix.
/// A row length that is not a multiple of the block size falls back: Q4_K -> Q4_0 -> F16,
/// Q6_K -> Q8_0 -> F16.
enum class WeightMix { kF16, kQ8_0, kQ4_0, kQ4_K_M };
Result<WeightMix> parse_weight_mix(std::string_view name);
std::string_view weight_mix_name(WeightMix mix);
/// llama.cpp's general.file_type (llama_ftype) for the mix.
uint32_t weight_mix_file_type(WeightMix mix);
/// The ggml type of a matrix. role: "token_embd", "output", "attn_q", ..., "ffn_down_exps".
GgmlType choose_matrix_type(WeightMix mix, std::string_view role, int64_t row_length);

struct GenerateOptions {
  ModelPreset preset;
  WeightMix mix = WeightMix::kQ4_K_M;
  uint64_t seed = 1;
  int n_threads = 2;            ///< quantization threads (the output does not depend on it)
  std::string vocab = "llama";  ///< bundled vocabulary (core/tokenizer/bundled_vocab.h)
};

/// The metadata and the (not yet produced) tensors of the model. The producers capture
/// everything they need by value, so the writer may outlive `opt`.
Result<GgufWriter> build_model_writer(const GenerateOptions& opt);

/// (Not "GenerateStats": core/engine/engine.h has a struct of that name.)
struct MakeModelStats {
  uint64_t file_bytes = 0;
  size_t n_tensors = 0;
  double seconds = 0;
};
/// build_model_writer + write (atomically: "<path>.tmp", then rename).
Result<MakeModelStats> generate_model(const GenerateOptions& opt, const std::string& path);

/// Seed of row `row` of the tensor named `tensor` (splitmix64 of seed, name hash and row): every
/// row has its own std::mt19937_64 stream, so the output is independent of threads and chunks.
uint64_t row_seed(uint64_t seed, std::string_view tensor, int64_t row);

}  // namespace moe
