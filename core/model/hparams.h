#pragma once
// Hyperparameters of a Llama-family model (Mixtral = llama with experts), read from GGUF
// metadata ("<arch>.block_count", ...). A dense Llama is the 1-expert case.
#include <cstdint>
#include <string>

#include "core/util/status.h"

namespace moe {

class GgufFile;

struct HParams {
  std::string arch;       ///< general.architecture ("llama")
  int n_layer = 0;        ///< block_count
  int n_embd = 0;         ///< embedding_length
  int n_head = 0;         ///< attention.head_count
  int n_head_kv = 0;      ///< attention.head_count_kv (= n_head when absent)
  int head_dim = 0;       ///< n_embd / n_head
  int n_ff = 0;           ///< feed_forward_length (dense FFN / per-expert when no override)
  int n_expert_ff = 0;    ///< expert_feed_forward_length, else n_ff
  int n_expert = 1;       ///< expert_count; 1 for a dense model
  int n_expert_used = 1;  ///< expert_used_count; 1 for a dense model
  bool moe = false;       ///< expert_count > 0 in the file
  int n_vocab = 0;        ///< rows of token_embd (checked against the token list)
  int n_ctx_train = 0;    ///< context_length
  int n_rot = 0;          ///< rope.dimension_count (<= head_dim; default head_dim)
  float rope_freq_base = 10000.0f;
  float rope_freq_scale = 1.0f;  ///< 1 / rope.scaling.factor for linear scaling
  float rms_eps = 1e-5f;         ///< attention.layer_norm_rms_epsilon
};

/// Reads and validates the hyperparameters (each within a sane range: a 150 KB file must not
/// be able to ask for 2^30 layers); n_vocab is left 0 (the loader sets it from the embedding
/// table). Errors name the key and the file.
Result<HParams> read_hparams(const GgufFile& file);

/// Cheap checks of the counts against the tensors present, before anything is sized from
/// them: block_count against the number of tensors and the last block's presence,
/// expert_count against the router's rows. The loader then checks every tensor's shape.
Status check_hparams_against_tensors(const HParams& hp, const GgufFile& file);

}  // namespace moe
