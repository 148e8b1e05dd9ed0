#pragma once
// `moe-cli inspect`: what a GGUF model is (architecture, hyperparameters, experts, tokenizer)
// and where its bytes go (per tensor type; expert vs non-expert, per layer). Pure function of
// the GgufFile: no weights are read.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/quant/types.h"
#include "core/util/status.h"

namespace moe {

class GgufFile;

/// Tensors of one ggml type.
struct TypeUsage {
  std::string type;  ///< "Q4_K"
  int64_t count = 0;
  uint64_t bytes = 0;
  int64_t elements = 0;
};

/// Expert weights of one layer: blk.N.ffn_{gate,up,down}_exps.weight (merged, 3-D) or the older
/// per-expert blk.N.ffn_{gate,up,down}.E.weight.
struct LayerExperts {
  int64_t layer = 0;
  int64_t n_tensors = 0;
  uint64_t bytes = 0;
};

struct FileSummary {
  std::string path;
  uint32_t version = 0;
  uint64_t file_size = 0, alignment = 0, data_offset = 0;
  std::string architecture, name;
  int64_t file_type = -1;       ///< general.file_type (llama_ftype), -1 when absent
  bool random_weights = false;  ///< moe.random_weights (made by `moe-cli make-model`)
  // Hyperparameters ("<arch>.*"); 0 when absent.
  int64_t block_count = 0, embedding_length = 0, feed_forward_length = 0;
  int64_t expert_feed_forward_length = 0, head_count = 0, head_count_kv = 0;
  int64_t context_length = 0, rope_dimension_count = 0;
  double rope_freq_base = 0, rms_epsilon = 0;
  int64_t expert_count = 0, expert_used_count = 0;
  // Tokenizer.
  std::string tokenizer_model;
  int64_t vocab_size = 0;  ///< <arch>.vocab_size, else the token list, else token_embd rows
  bool has_chat_template = false;
  // Tensors.
  int64_t n_tensors = 0, n_params = 0;
  std::vector<TypeUsage> types;                 ///< sorted by bytes, largest first
  std::vector<LayerExperts> experts_per_layer;  ///< layers that have expert tensors, ascending
  uint64_t expert_bytes = 0, non_expert_bytes = 0, tensor_bytes = 0;
};

/// Builds the summary. An Error when a hyperparameter key has the wrong type.
Result<FileSummary> summarize_model(const GgufFile& file);

/// If `name` is an expert weight, its layer (>= 0); otherwise -1.
int64_t expert_tensor_layer(const std::string& name);

std::string summary_to_text(const FileSummary& s);
nlohmann::json summary_to_json(const FileSummary& s);

}  // namespace moe
