#include "core/model/hparams.h"

#include <cmath>
#include <string>
#include <string_view>

#include "core/gguf/gguf_file.h"

namespace moe {
namespace {

// Upper limits far above any released model (Llama 3.1 405B: 126 layers, n_embd 16384;
// DeepSeek-V3: 256 experts; Llama 4 Scout: 10M context) and far below what would let a small
// hostile file make the engine allocate gigabytes from one number.
struct CountLimit {
  std::string_view name;
  int64_t max;
};
constexpr CountLimit kLimits[] = {
    {"block_count", 4096},
    {"embedding_length", 1 << 17},
    {"attention.head_count", 1 << 14},
    {"attention.head_count_kv", 1 << 14},
    {"feed_forward_length", 1 << 20},
    {"expert_feed_forward_length", 1 << 20},
    {"context_length", 1 << 24},
    {"expert_count", 4096},
    {"expert_used_count", 4096},
    {"rope.dimension_count", 1 << 14},
};

int64_t max_of(std::string_view name) {
  for (const CountLimit& l : kLimits) {
    if (l.name == name) return l.max;
  }
  return int64_t{1} << 30;
}

// Reads "<arch>.<name>" as a positive int; `fallback` < 0 means required.
Result<int> get_count(const GgufFile& f, const std::string& arch, std::string_view name,
                      int64_t fallback, int64_t min_value = 1) {
  const std::string key = arch + "." + std::string(name);
  if (!f.has(key)) {
    if (fallback >= 0) return static_cast<int>(fallback);
    return make_error(f.path(), ": missing metadata key '", key, "'");
  }
  auto v = f.get_int(key);
  if (!v) return v.error();
  if (*v < min_value || *v > max_of(name)) {
    return make_error(f.path(), ": metadata '", key, "' = ", std::to_string(*v),
                      " is out of range [", std::to_string(min_value), ", ",
                      std::to_string(max_of(name)), "]");
  }
  return static_cast<int>(*v);
}

}  // namespace

Result<HParams> read_hparams(const GgufFile& f) {
  HParams hp;
  auto arch = f.get_string("general.architecture");
  if (!arch) return arch.error();
  hp.arch = *arch;
  if (hp.arch != "llama") {
    return make_error(f.path(), ": unsupported architecture '", hp.arch,
                      "' (supported: llama, incl. Mixtral = llama with llama.expert_count > 0)");
  }
  const std::string& a = hp.arch;
  auto get = [&](std::string_view name, int64_t fallback, int& dst, int64_t min_v = 1) -> Status {
    auto r = get_count(f, a, name, fallback, min_v);
    if (!r) return r.error();
    dst = *r;
    return {};
  };
  MOE_TRY(get("block_count", -1, hp.n_layer));
  MOE_TRY(get("embedding_length", -1, hp.n_embd));
  MOE_TRY(get("attention.head_count", -1, hp.n_head));
  MOE_TRY(get("attention.head_count_kv", hp.n_head, hp.n_head_kv));
  MOE_TRY(get("feed_forward_length", -1, hp.n_ff));
  MOE_TRY(get("expert_feed_forward_length", hp.n_ff, hp.n_expert_ff));
  MOE_TRY(get("context_length", 4096, hp.n_ctx_train));
  int n_expert = 0, n_used = 0;
  MOE_TRY(get("expert_count", 0, n_expert, 0));
  MOE_TRY(get("expert_used_count", n_expert > 0 ? -1 : 0, n_used, 0));
  hp.moe = n_expert > 0;
  hp.n_expert = hp.moe ? n_expert : 1;
  hp.n_expert_used = hp.moe ? n_used : 1;

  const std::string p = f.path() + ": ";
  if (hp.n_embd % hp.n_head != 0) {
    return make_error(p, "embedding_length ", std::to_string(hp.n_embd),
                      " is not a multiple of head_count ", std::to_string(hp.n_head));
  }
  if (hp.n_head % hp.n_head_kv != 0) {
    return make_error(p, "head_count ", std::to_string(hp.n_head),
                      " is not a multiple of head_count_kv ", std::to_string(hp.n_head_kv));
  }
  hp.head_dim = hp.n_embd / hp.n_head;
  if (hp.moe && (hp.n_expert_used < 1 || hp.n_expert_used > hp.n_expert)) {
    return make_error(p, "expert_used_count ", std::to_string(hp.n_expert_used),
                      " must be in [1, expert_count = ", std::to_string(hp.n_expert), "]");
  }
  MOE_TRY(get("rope.dimension_count", hp.head_dim, hp.n_rot));
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
    return make_error(p, "rope.dimension_count ", std::to_string(hp.n_rot),
                      " must be even and <= head dim ", std::to_string(hp.head_dim));
  }

  auto base = f.get_float_or(a + ".rope.freq_base", 10000.0);
  if (!base) return base.error();
  // Checked as the float the engine uses: 1e300 is a finite double but an infinite float.
  hp.rope_freq_base = static_cast<float>(*base);
  if (!(hp.rope_freq_base > 0) || !std::isfinite(hp.rope_freq_base)) {
    return make_error(p, "rope.freq_base = ", std::to_string(*base),
                      " must be a finite number > 0");
  }

  auto eps = f.get_float_or(a + ".attention.layer_norm_rms_epsilon", 1e-5);
  if (!eps) return eps.error();
  if (!(*eps > 0 && *eps < 1)) return make_error(p, "layer_norm_rms_epsilon out of range");
  hp.rms_eps = static_cast<float>(*eps);

  // RoPE scaling: linear only ("rope.scaling.type" = linear + factor, or the older
  // "rope.scale_linear"). Other kinds would silently give wrong answers, so they are errors.
  std::string scaling = "none";
  if (f.has(a + ".rope.scaling.type")) {
    auto t = f.get_string(a + ".rope.scaling.type");
    if (!t) return t.error();
    scaling = *t;
  }
  double factor = 1.0;
  if (scaling == "linear") {
    auto fac = f.get_float_or(a + ".rope.scaling.factor", 1.0);
    if (!fac) return fac.error();
    factor = *fac;
  } else if (scaling != "none") {
    return make_error(p, "unsupported rope scaling type '", scaling, "' (supported: none, linear)");
  } else if (f.has(a + ".rope.scale_linear")) {
    auto fac = f.get_float(a + ".rope.scale_linear");
    if (!fac) return fac.error();
    factor = *fac;
  }
  hp.rope_freq_scale = static_cast<float>(1.0 / factor);
  if (!(factor > 0) || !std::isfinite(factor) || !(hp.rope_freq_scale > 0) ||
      !std::isfinite(hp.rope_freq_scale)) {
    return make_error(p, "rope scaling factor = ", std::to_string(factor),
                      " must be a finite number > 0 (and its inverse a float > 0)");
  }
  return hp;
}

Status check_hparams_against_tensors(const HParams& hp, const GgufFile& f) {
  // A block has at least 9 tensors: 2 norms, q/k/v/o, and gate/up/down (merged or dense).
  constexpr int64_t kMinTensorsPerBlock = 9;
  const int64_t n_tensors = static_cast<int64_t>(f.tensors().size());
  if (int64_t{hp.n_layer} * kMinTensorsPerBlock > n_tensors) {
    return make_error(f.path(), ": ", hp.arch, ".block_count = ", std::to_string(hp.n_layer),
                      " but the file holds only ", std::to_string(n_tensors),
                      " tensors (a block has at least ", std::to_string(kMinTensorsPerBlock), ")");
  }
  const std::string last = "blk." + std::to_string(hp.n_layer - 1) + ".attn_norm.weight";
  if (f.find_tensor(last) == nullptr) {
    return make_error(f.path(), ": ", hp.arch, ".block_count = ", std::to_string(hp.n_layer),
                      " but tensor '", last, "' of the last block is missing");
  }
  if (hp.moe) {
    const TensorInfo* router = f.find_tensor("blk.0.ffn_gate_inp.weight");
    if (router != nullptr && router->ne(1) != hp.n_expert) {
      return make_error(f.path(), ": ", hp.arch, ".expert_count = ", std::to_string(hp.n_expert),
                        " but the router 'blk.0.ffn_gate_inp.weight' has ",
                        std::to_string(router->ne(1)), " rows");
    }
  }
  return {};
}

}  // namespace moe
