#pragma once
// A loaded Llama/Mixtral model: hyperparameters and views of every weight inside the GGUF
// mapping (never copied; the OS pages them in on first use). Only the tiny norm vectors are
// converted to float and owned.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/gguf/gguf_file.h"
#include "core/model/hparams.h"
#include "core/quant/types.h"
#include "core/util/status.h"

namespace moe {

/// A weight matrix of n_out rows of n_in elements, each row `row_stride` bytes, in the mapping.
struct MatrixView {
  const uint8_t* data = nullptr;
  GgmlType type = GgmlType::F32;
  int64_t n_in = 0, n_out = 0;
  size_t row_stride = 0;
  const uint8_t* row(int64_t r) const { return data + static_cast<size_t>(r) * row_stride; }
  uint64_t bytes() const { return static_cast<uint64_t>(n_out) * row_stride; }
};

/// One expert's SwiGLU FFN: y = down(silu(gate x) * up x).
struct ExpertWeights {
  MatrixView gate, up;  ///< [n_ff rows of n_embd]
  MatrixView down;      ///< [n_embd rows of n_ff]
  uint64_t bytes() const { return gate.bytes() + up.bytes() + down.bytes(); }
};

struct LayerWeights {
  std::vector<float> attn_norm, ffn_norm;  ///< [n_embd]
  MatrixView wq, wk, wv, wo;               ///< q: [n_embd rows], k/v: [n_head_kv*head_dim rows]
  MatrixView router;                       ///< [n_expert rows of n_embd]; empty for dense
  std::vector<ExpertWeights> experts;      ///< n_expert (1 for dense)
};

class Model {
 public:
  /// Opens and validates a GGUF file. Errors name the file and the missing / mis-shaped
  /// tensor or key; tensor types the engine cannot compute are rejected by name.
  static Result<std::unique_ptr<Model>> load(const std::string& path);
  /// Same, from an already parsed file (tests build broken files in memory).
  static Result<std::unique_ptr<Model>> from_file(std::unique_ptr<GgufFile> file);

  const HParams& hparams() const { return hp_; }
  const GgufFile& file() const { return *file_; }
  const MatrixView& tok_embd() const { return tok_embd_; }  ///< [n_vocab rows of n_embd]
  const std::vector<float>& output_norm() const { return output_norm_; }
  const MatrixView& output() const { return output_; }  ///< LM head (tok_embd when tied)
  const LayerWeights& layer(int i) const { return layers_[static_cast<size_t>(i)]; }
  int n_layer() const { return hp_.n_layer; }

  uint64_t expert_bytes() const { return expert_bytes_; }
  /// True for the tensors bound as expert weights (merged, per-expert, or a dense FFN): what an
  /// ExpertStore serves. Everything else is resident (non-expert) weight.
  bool is_expert_tensor(const TensorInfo& t) const { return expert_tensors_.count(&t) > 0; }
  uint64_t non_expert_bytes() const { return non_expert_bytes_; }
  /// "F32", "Q8_0", "mixed Q4_K/Q6_K": the types of the expert weights.
  std::string weight_types() const;

 private:
  Model() = default;
  Status bind();
  Status bind_layer(int il);
  Status bind_experts(int il, LayerWeights& L);
  Result<MatrixView> matrix(const std::string& name, int64_t n_in, int64_t n_out) const;
  Result<std::vector<float>> vector(const std::string& name, int64_t n) const;

  std::unique_ptr<GgufFile> file_;
  HParams hp_;
  MatrixView tok_embd_, output_;
  std::vector<float> output_norm_;
  std::vector<LayerWeights> layers_;
  uint64_t expert_bytes_ = 0, non_expert_bytes_ = 0;
  std::unordered_set<const TensorInfo*> expert_tensors_;
};

/// The 2-D slice `index` of a 3-D merged tensor {n_in, n_out, n}: a matrix view.
MatrixView slice_view(const TensorInfo& t, int64_t index);

}  // namespace moe
